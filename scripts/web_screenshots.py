"""Screenshots of the web app's main screens, desktop and phone (375 px), for the README:
img/web-<screen>-<desktop|phone>.png. Called by scripts/screenshots.py (`make docs`) against the
same stack as the Swagger pictures; driven by Playwright (the test suite's driver) on Debian's
Chromium, so nothing is downloaded."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from scripts.chromium import CHROMIUM_FLAGS

if TYPE_CHECKING:
    from playwright.sync_api import Page

SIZES = {"desktop": (1280, 800), "phone": (375, 740)}
PASSWORD = "correct horse battery staple"


def seed(base_url: str, owner: str, friend: str) -> None:
    """A small, believable namespace: folders, a few files of several types, a share and a link."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        tokens = {}
        for name in (owner, friend):
            api.post("/users", json={"username": name, "password": PASSWORD}).raise_for_status()
            login = api.post("/auth/token", data={"username": name, "password": PASSWORD})
            login.raise_for_status()
            tokens[name] = {"Authorization": f"Bearer {login.json()['access_token']}"}
        auth = tokens[owner]
        for folder in ("Photos/2026", "Projects/liftbit", "Invoices"):
            api.put(f"/users/{owner}/folders/{folder}", headers=auth).raise_for_status()
        files = {
            "Quarterly report.txt": b"Quarterly figures: all up and to the right.\n" * 40,
            "Roadmap.md": b"# Roadmap\n\n- web app\n- share links\n" * 30,
            "budget.csv": b"month,amount\n" + b"jan,100\n" * 800,
            "notes.txt": b"Remember the milk.\n",
            "Photos/2026/beach.txt": b"sand" * 5000,
        }
        for path, body in files.items():
            api.put(f"/users/{owner}/files/{path}", content=body, headers=auth).raise_for_status()
        info = api.get(f"/users/{owner}/files/Quarterly report.txt/info", headers=auth).json()
        api.put(f"/files/{info['id']}/permissions/{friend}", headers=auth).raise_for_status()
        api.post(f"/files/{info['id']}/links", json={"max_downloads": 10}, headers=auth).raise_for_status()
        api.delete(f"/users/{owner}/files/notes.txt", headers=auth).raise_for_status()


def shoot(page: Page, output: Path, screen: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        target = output / f"web-{screen}-{size}.png"
        page.screenshot(path=str(target))
        print(f"  {target.name}", flush=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def take_web_screenshots(base_url: str, output: Path, browser_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    suffix = uuid.uuid4().hex[:6]
    owner, friend = f"dana{suffix}", f"erin{suffix}"
    seed(base_url, owner, friend)
    print(f"Screenshots of {base_url}/app/:", flush=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, headless=True, args=list(CHROMIUM_FLAGS))
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/app/login")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        shoot(page, output, "login")
        page.get_by_label("Username").fill(owner)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator('.row[data-name="Roadmap.md"]')).to_be_visible()
        shoot(page, output, "files")
        report = "Quarterly report.txt"
        page.locator(f'.row[data-name="{report}"]').get_by_role("button", name=f"Details of {report}").click()
        expect(page.get_by_label(f"Text of {report}")).to_contain_text("Quarterly")
        shoot(page, output, "details")
        page.keyboard.press("Escape")
        page.get_by_role("link", name="Trash").click()
        expect(page.get_by_text("notes.txt")).to_be_visible()
        shoot(page, output, "trash")
        context.close()
        browser.close()
