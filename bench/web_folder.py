"""The web app with a folder of 5,000 entries: how long it takes to show, and how smoothly it
scrolls (the e2e test uses 1,100 entries to stay quick; this is the full-size measure).

    python -m bench.web_folder --home DIR   (a stack running there, e.g. one of `make up`)

Creates a user and 5,000 folders in one folder through the API (8 in parallel), then in headless
Chromium (Playwright, Debian's chromium): opens the folder and times it until every entry is
listed; scrolls the list to the end in 200 steps, one per animation frame, and reports the frame
intervals (p50, p99, max) and how many rows were in the page at most."""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import httpx
import typer

from scripts.chromium import CHROMIUM, CHROMIUM_FLAGS
from scripts.stack.info import StackInfo

IDLE = """async (_) => {
    const gaps = []; let last = performance.now();
    for (let i = 0; i < 200; i++) {
        await new Promise(resolve => requestAnimationFrame(resolve));
        const now = performance.now(); gaps.push(now - last); last = now;
    }
    return {gaps, most: document.querySelectorAll('.row').length};
}"""

SCROLL = """async (step) => {
    const list = document.querySelector('[data-testid=rows]');
    list.scrollTop = 0;
    await new Promise(resolve => requestAnimationFrame(resolve));
    const gaps = []; let most = 0; let last = performance.now();
    step = step || (list.scrollHeight - list.clientHeight) / 200;
    for (let i = 1; i <= 200; i++) {
        list.scrollTop = step * i;
        await new Promise(resolve => requestAnimationFrame(resolve));
        const now = performance.now(); gaps.push(now - last); last = now;
        most = Math.max(most, document.querySelectorAll('.row').length);
    }
    return {gaps, most};
}"""


def main(
    home: Annotated[Path, typer.Option(help="LIFTBIT_HOME of a running stack")],
    entries: Annotated[int, typer.Option()] = 5000,
    user: Annotated[str | None, typer.Option(help="a user of an earlier run: its folder is reused")] = None,
) -> None:
    stack = StackInfo.read(home)
    name, password = user or f"big{uuid.uuid4().hex[:8]}", "correct horse battery"
    if not user:
        create(stack.url, name, password, entries)
    measure(stack.url, name, password, entries)


def create(url: str, name: str, password: str, entries: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as api:
        api.post("/users", json={"username": name, "password": password}).raise_for_status()
        token = api.post("/auth/token", data={"username": name, "password": password}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        began = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: api.put(f"/users/{name}/folders/big/e{i:05d}", headers=auth).raise_for_status(),
                    range(entries),
                )
            )
        print(f"created {entries} folders in {time.monotonic() - began:.1f} s (user {name})")


def measure(url: str, name: str, password: str, entries: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_FLAGS))
        page = browser.new_page(base_url=url, viewport={"width": 1280, "height": 800})
        page.goto("/app/login")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        began = time.monotonic()
        page.goto("/app/files/big")
        expect(page.get_by_test_id("rows")).to_have_attribute("data-count", str(entries), timeout=60_000)
        print(f"folder of {entries} shown in {time.monotonic() - began:.2f} s (page load included)")
        # The same frames without scrolling: what this machine's headless Chromium does anyway.
        # "steady": 3 rows a frame, a quick wheel; "flick": the whole list in 200 frames (~1,100 px,
        # every row new each frame), the worst case.
        runs = (("idle", IDLE, 0), ("steady scroll", SCROLL, 132), ("flick to the end", SCROLL, 0))
        for what, script, step in runs:
            result = page.evaluate(script, step)
            gaps = sorted(result["gaps"])
            p99 = gaps[int(len(gaps) * 0.99) - 1]
            print(
                f"{what}, 200 frames: p50 {statistics.median(gaps):.1f} ms, p99 {p99:.1f} ms,"
                f" max {gaps[-1]:.1f} ms; at most {result['most']} rows in the page"
            )
        browser.close()


if __name__ == "__main__":
    typer.run(main)
