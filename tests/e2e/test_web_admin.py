"""The web app's administration screen and account security against the real stack: an admin
invites someone, who signs up with the invite code; the admin sets their quota and disables them
(their token then answers 401); a plain user sees no Administration; a person changes their
password, makes a read-only API token in the page, uses it and revokes it. Each new screen passes
axe at desktop and phone width."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from scripts.stack.info import StackInfo, read_env_file
from tests.support.admin import log_in
from tests.support.browser import TIMEOUT_MS
from tests.support.stack import after_revocation
from tests.support.users import User, register, unique_name
from tests.support.web import PHONE, accessible_at_both_widths, sign_in


def fits_a_phone(page: Page) -> None:
    """At 375 px the screen does not scroll sideways (the users table scrolls in its own region)."""
    page.set_viewport_size(PHONE)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
def admin(api: httpx.Client, stack: StackInfo) -> User:
    password = read_env_file(stack.home / "secrets.env")["LIFTBIT_ADMIN_PASSWORD"]
    return log_in(api, "admin", password)


def test_admin_invites_sets_quota_and_disables(
    page: Page, browser: Browser, stack: StackInfo, api: httpx.Client, admin: User, browser_errors: list[str]
) -> None:
    sign_in(page, admin)
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Administration", exact=True)).to_be_visible()
    expect(page.locator("tr[data-user='admin']")).to_contain_text("admin")
    expect(page.get_by_test_id("stats")).to_contain_text("Users")

    name = unique_name("inv")
    page.get_by_label("Username (optional)").fill(name)
    page.get_by_label("Quota (optional, such as 10G)").fill("2G")
    page.get_by_role("button", name="Create invite").click()
    code = page.get_by_test_id("invite-token").inner_text()
    assert len(code) > 10
    expect(page.get_by_role("status").filter(has_text="Invite code")).to_contain_text(f"/app/signup?invite={code}")
    accessible_at_both_widths(page)
    fits_a_phone(page)

    # Someone else's browser: the sign-up address with the code fills the Invite code field.
    other = browser.new_context(base_url=stack.url)
    other.set_default_timeout(TIMEOUT_MS)
    try:
        newcomer = other.new_page()
        newcomer.goto(f"/app/signup?invite={code}")
        expect(newcomer.get_by_label("Invite code")).to_have_value(code)
        newcomer.get_by_label("Username").fill(name)
        newcomer.get_by_label("Password").fill("a long enough password")
        newcomer.get_by_role("button", name="Sign up").click()
        expect(newcomer.locator(".who")).to_have_text(name)
        expect(newcomer.get_by_test_id("usage")).to_contain_text("of 2.0 GiB")
        expect(newcomer.get_by_role("link", name="Account")).to_be_visible()
        assert newcomer.get_by_role("link", name="Administration").count() == 0
        token = newcomer.evaluate("sessionStorage.getItem('liftbit.token')")
    finally:
        other.close()
    theirs = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/users/{name}", headers=theirs).status_code == 200

    page.reload()
    row = page.locator(f"tr[data-user='{name}']")
    expect(row).to_contain_text("2.0 GiB")
    row.get_by_role("button", name=f"Set quota of {name}").click()
    quota = page.get_by_role("dialog")
    expect(quota.get_by_label("Quota (such as 500M or 10G")).to_have_value("2G")
    quota.get_by_label("Quota (such as 500M or 10G").fill("10G")
    quota.get_by_role("button", name="Set quota", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="quota of")).to_have_text(f"The quota of {name} is 10 GiB.")
    expect(row).to_contain_text("10 GiB")
    listed = {row["username"]: row for row in api.get("/admin/users", headers=admin.auth).json()}
    assert listed[name]["quota_bytes"] == 10 * 1024**3

    row.get_by_role("button", name=f"Disable {name}").click()
    expect(row).to_contain_text("disabled")
    after_revocation()
    refused = api.get(f"/users/{name}", headers=theirs)
    assert refused.status_code == 401, refused.text
    row.get_by_role("button", name=f"Enable {name}").click()
    expect(row).to_contain_text("active")

    row.get_by_role("button", name=f"Reset password of {name}").click()
    expect(page.get_by_test_id("reset-token")).not_to_be_empty()
    expect(page.get_by_test_id("audit")).to_contain_text(name)
    first_audit = page.get_by_test_id("audit").locator("li").first
    expect(first_audit).to_contain_text(name)  # newest first: the reset just made

    row.get_by_role("button", name=f"Delete {name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Delete {name} for good?")
    accessible_at_both_widths(page)
    dialog.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_have_text(f"{name} was deleted.")
    expect(row).to_have_count(0)
    assert browser_errors == [], browser_errors


def test_a_plain_user_sees_no_administration(page: Page, alice: User) -> None:
    sign_in(page, alice)
    expect(page.get_by_role("link", name="Account")).to_be_visible()
    assert page.get_by_role("link", name="Administration").count() == 0
    page.goto("/app/admin")
    expect(page.get_by_role("alert")).to_have_text("Only administrators can open this screen.")
    accessible_at_both_widths(page)


def test_account_security_password_and_api_tokens(page: Page, api: httpx.Client) -> None:
    user = register(api, unique_name("sec"))
    sign_in(page, user, "/app/account")
    expect(page.get_by_role("heading", name="Account security")).to_be_visible()
    expect(page.get_by_test_id("sessions")).to_contain_text("this session")
    accessible_at_both_widths(page)
    fits_a_phone(page)

    # Change password: the API's own message on a refused one, then the new one works.
    page.get_by_label("Current password").fill(user.password)
    page.get_by_label("New password").fill("password")
    page.get_by_role("button", name="Change password").click()
    refused = page.get_by_role("alert")
    expect(refused).to_contain_text("password")
    assert "[object Object]" not in refused.inner_text()
    page.get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="password was changed")).to_be_visible()
    assert api.post("/auth/token", data={"username": user.name, "password": user.password}).status_code == 401
    renewed = log_in(api, user.name, "a brand new passphrase")
    page.reload()
    expect(page.get_by_test_id("sessions").locator("li")).to_have_count(2)  # this one and the httpx login
    spare = log_in(api, user.name, "a brand new passphrase")
    page.reload()
    sessions = page.get_by_test_id("sessions")
    expect(sessions.locator("li")).to_have_count(3)
    sessions.get_by_role("button", name="Revoke the session").first.click()  # newest first: spare
    expect(page.get_by_role("status").filter(has_text="The session was signed out")).to_be_visible()
    expect(sessions.locator("li")).to_have_count(2)
    assert api.get(f"/users/{user.name}", headers=spare.auth).status_code == 401
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_role("status").filter(has_text="Every other session")).to_be_visible()
    expect(page.get_by_test_id("sessions").locator("li")).to_have_count(1)
    assert api.get(f"/users/{user.name}", headers=renewed.auth).status_code == 401

    # A read-only API token made in the page: reads, cannot write, and stops at revocation.
    page.get_by_label("Token name").fill("backup script")
    page.get_by_label("Access").select_option("read")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("api-token").inner_text()
    tokens = page.get_by_test_id("api-tokens")
    expect(tokens).to_contain_text("backup script")
    expect(tokens).to_contain_text("read only")
    accessible_at_both_widths(page)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get(f"/users/{user.name}/folders", headers=bearer).status_code == 200
    assert api.put(f"/users/{user.name}/folders/nope", headers=bearer).status_code == 403
    page.get_by_role("button", name="Revoke token backup script").click()
    expect(page.get_by_role("status").filter(has_text="was revoked")).to_be_visible()
    expect(page.get_by_text("No API tokens.")).to_be_visible()
    after_revocation()
    assert api.get(f"/users/{user.name}/folders", headers=bearer).status_code == 401

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill(user.name)
    page.get_by_label("Password").fill("a brand new passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(user.name)
    assert re.search(r"/app/files/$", page.url)
