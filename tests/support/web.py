"""Helpers of the web app's browser tests (tests/e2e/test_web_*.py): signing in through the login
screen, and the axe check at desktop and phone width."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import ViewportSize, expect

from tests.support.browser import axe_violations
from tests.support.users import User

if TYPE_CHECKING:
    from playwright.sync_api import Page

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=375, height=740)


def sign_in(page: Page, user: User, to: str = "/app/files/") -> None:
    """Log in through the login screen; the app then opens ``to``."""
    page.goto(f"/app/login?next={to}")
    page.get_by_label("Username").fill(user.name)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def accessible_at_both_widths(page: Page) -> None:
    """No serious or critical axe finding on the screen as it is, at desktop and at 375 px."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        found = axe_violations(page)
        assert found == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]
    page.set_viewport_size(DESKTOP)
