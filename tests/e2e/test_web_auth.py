"""The web app at /: served by nginx under the strict CSP, sign up, log in, log out, readable
errors (the API's message, never [object Object]), 503s and network loss said and retried, and a
401 sending the person to the login screen and back to the folder they were in."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, Route, expect

from tests.support.stack import after_revocation
from tests.support.users import User, unique_name
from tests.support.web import accessible_at_both_widths, sign_in


def test_the_app_is_served_at_the_root_with_its_assets(page: Page, browser_errors: list[str]) -> None:
    answer = page.goto("/")
    assert answer is not None and answer.ok
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-cache"
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url.endswith("/app/login?next=%2Fapp%2Ffiles%2F")
    assert browser_errors == []
    again = page.goto("/app/files/deep/folder")  # an app address on reload: the same index.html
    assert again is not None and again.ok


def test_sign_up_log_out_and_log_in_again(page: Page, browser_errors: list[str]) -> None:
    name = unique_name("w")
    page.goto("/")
    accessible_at_both_widths(page)
    page.get_by_role("link", name="New here? Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("password")
    assert "[object Object]" not in alert.inner_text()
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_text("This folder is empty")).to_be_visible()
    expect(page.locator(".who")).to_have_text(name)
    expect(page.get_by_test_id("usage")).to_contain_text("0 B used")
    accessible_at_both_widths(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("incorrect username or password")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("This folder is empty")).to_be_visible()
    # The two refused requests (422, 401) are the only console errors.
    assert len(browser_errors) == 2 and all("status of 4" in error for error in browser_errors), browser_errors


def test_a_401_goes_to_login_and_back_to_the_folder(page: Page, api: httpx.Client, alice: User) -> None:
    assert api.put(f"/users/{alice.name}/folders/projects/2026", headers=alice.auth).status_code == 201
    sign_in(page, alice, "/app/files/projects/2026")
    expect(page.get_by_role("link", name="2026")).to_have_attribute("aria-current", "page")
    token = page.evaluate("sessionStorage.getItem('liftbit.token')")
    assert api.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204

    after_revocation()
    page.get_by_role("link", name="projects").click()  # the listing answers 401
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(alice.name)
    page.get_by_label("Password").fill(alice.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="projects")).to_have_attribute("aria-current", "page")
    assert page.url.endswith("/app/files/projects")
    expect(page.locator(".row", has_text="2026")).to_be_visible()


def test_a_503_and_a_network_cut_are_said_and_retried(page: Page, api: httpx.Client, alice: User) -> None:
    assert api.put(f"/users/{alice.name}/folders/inbox", headers=alice.auth).status_code == 201
    sign_in(page, alice)
    failures = {"left": 2}

    def unavailable(route: Route) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"error":{"code":"dependency_unavailable","message":"metadata_ms is unavailable"}}',
            )
        else:
            route.continue_()

    page.route("**/folders/inbox?*", unavailable)
    page.locator(".row", has_text="inbox").get_by_role("link").click()
    expect(page.get_by_role("status").filter(has_text="briefly unavailable")).to_be_visible()
    expect(page.get_by_text("This folder is empty")).to_be_visible()
    expect(page.get_by_text("briefly unavailable")).to_be_hidden()
    assert failures["left"] == 0

    page.context.set_offline(True)
    page.get_by_role("link", name="My files").click()
    expect(page.get_by_text("Connection lost: retrying")).to_be_visible()
    page.context.set_offline(False)
    expect(page.locator(".row", has_text="inbox")).to_be_visible()
    expect(page.get_by_text("Connection lost")).to_be_hidden()


def test_swagger_token_errors_are_readable_and_the_dialog_asks_only_what_matters(page: Page, alice: User) -> None:
    page.goto("/docs")
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.locator("#oauth_username")).to_be_visible()
    for field in ("client_id_password", "client_secret_password", "password_type"):
        label = page.locator(f'.auth-container label[for="{field}"]')
        expect(label).to_have_count(1)  # Swagger UI renders the row; the stylesheet hides it
        expect(label).to_be_hidden()
    page.locator("#oauth_username").fill(alice.name)
    page.locator("#oauth_password").fill("not the password")
    page.locator(".auth-btn-wrapper .authorize").click()
    error = page.locator(".auth-container .errors")
    expect(error).to_contain_text("incorrect username or password")
    assert "[object Object]" not in error.inner_text()
    page.locator("#oauth_password").fill(alice.password)
    page.locator(".auth-btn-wrapper .authorize").click()
    expect(page.locator(".auth-btn-wrapper .authorize")).to_have_text("Logout")
    expect(page.locator('.auth-container label[for="password_type"]')).to_be_hidden()
