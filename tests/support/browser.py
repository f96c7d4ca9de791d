"""A real browser for the tests: Debian's Chromium (/usr/bin/chromium, installed by
`scripts/bootstrap.sh --test`) driven by Playwright. Never `playwright install`: no browser is
downloaded, the Python package only brings the driver.

Registered for every test by tests/conftest.py (``pytest_plugins``):

- ``browser``: one headless Chromium for the session;
- ``page``: a new context (own cookies and storage) per test, with the stack's URL as base URL
  (``page.goto("/docs")``) and downloads accepted (``with page.expect_download() as got: …``,
  then ``got.value.path()``: the file is in the session's downloads folder);
- ``browser_errors``: what the page printed to its console as an error (a CSP refusal, a script
  failing) or threw, for tests to assert empty;
- ``axe_violations(page)``: axe-core's accessibility findings (tests/browser-tools, npm ci'd by the
  bootstrap).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.chromium import CHROMIUM, CHROMIUM_FLAGS
from scripts.stack.info import StackInfo

if TYPE_CHECKING:  # Playwright is imported by the fixtures: ~1 s that tests without a browser do not pay
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright

TIMEOUT_MS = 15_000  # a busy 2-core machine renders slowly; far below pytest's own timeout


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap.sh --test (it installs Debian's chromium)")
    # Playwright adds --headless itself and gives the launch a fresh --user-data-dir (a temporary
    # profile it removes on close).
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=list(CHROMIUM_FLAGS),
        downloads_path=tmp_path_factory.mktemp("downloads"),
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, stack: StackInfo) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def browser_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_page_error(error: Error) -> None:
        errors.append(f"uncaught: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors


AXE = Path(__file__).resolve().parents[1] / "browser-tools" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's accessibility violations of the page as it is now, of these impacts: each with
    its rule ``id``, ``impact``, ``help`` and the ``nodes`` (``target`` selectors) that break it.
    Evaluated through the DevTools protocol, so the page's CSP does not stand in its way and the
    page's own scripts are not changed."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/bootstrap.sh --test (npm ci in tests/browser-tools)")
    found: list[dict[str, Any]] = page.evaluate(
        AXE.read_text() + "\n;axe.run(document, {resultTypes: ['violations']}).then(result => result.violations)"
    )
    return [violation for violation in found if violation["impact"] in impacts]
