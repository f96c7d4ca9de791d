"""A real browser against the stack: proof that Chromium, Playwright and axe-core work here (tests/support/browser.py)
and that Swagger UI, which exists only once its scripts ran, renders under nginx's CSP."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations


def test_swagger_ui_renders_through_nginx(page: Page, browser_errors: list[str]) -> None:
    answer = page.goto("/docs")
    assert answer is not None and answer.ok, answer
    assert "script-src 'self'" in answer.headers["content-security-policy"]

    # The heading, the operations and the Authorize button are all built by Swagger UI's JavaScript.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LiftBit")
    expect(page.locator(".opblock-summary-path", has_text="/auth/token").first).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert page.title() == "LiftBit - Swagger UI"
    assert browser_errors == []  # a CSP refusal or a failing script is a console error


def test_axe_finds_what_a_page_lacks(page: Page) -> None:
    page.set_content("<html><body><main><img src='data:,'><button></button></main></body></html>")
    assert {violation["id"] for violation in axe_violations(page)} == {
        "button-name",
        "image-alt",
        "document-title",
        "html-has-lang",
    }
    page.set_content(
        "<html lang='en'><head><title>ok</title></head>"
        "<body><main><h1>ok</h1><img src='data:,' alt='dot'><button>Send</button></main></body></html>"
    )
    assert axe_violations(page, impacts=("minor", "moderate", "serious", "critical")) == []
