"""Uploads from the web app (tus against /uploads/): the file picker, a drop of files anywhere on
the page, a whole folder, per-file progress, speed and cancel; an upload cut by going offline
mid-way and resumed, and one resumed after a page reload. Every upload's bytes are checked through
the API (SHA-256)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
from playwright.sync_api import CDPSession, Page, Request, expect

from tests.support.http import content
from tests.support.users import User
from tests.support.web import accessible_at_both_widths, sign_in

MiB = 1024 * 1024


def stored_sha256(api: httpx.Client, user: User, path: str) -> str:
    info = api.get(f"/users/{user.name}/files/{path}/info", headers=user.auth)
    assert info.status_code == 200, info.text
    return str(info.json()["sha256"])


def throttle(page: Page, bytes_per_second: int) -> CDPSession:
    """Slow the page's uploads down (DevTools network emulation), so that a test can act mid-way."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    emulate(cdp, offline=False, bytes_per_second=bytes_per_second)
    return cdp


def emulate(cdp: CDPSession, *, offline: bool, bytes_per_second: int) -> None:
    # The throttle and the cut through the same DevTools session: Playwright's context.set_offline()
    # sets the same emulation from its own session, which the throttle's would outlast.
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def sent_percent(page: Page, path: str) -> float:
    return float(page.locator(f'[data-testid="upload"][data-path="{path}"] progress').evaluate("p => p.value"))


def wait_for_percent(page: Page, path: str, percent: float, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sent_percent(page, path) < percent:
        assert time.monotonic() < deadline, f"{path} stayed below {percent} %"
        time.sleep(0.2)


def upload_of(page: Page, path: str) -> object:
    return page.locator(f'[data-testid="upload"][data-path="{path}"]')


def test_picker_drop_and_folder_uploads(page: Page, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    picked = tmp_path / "picked.bin"
    picked.write_bytes(content(3 * MiB + 17, seed=5))
    folder = tmp_path / "album"
    (folder / "raw").mkdir(parents=True)
    (folder / "cover.txt").write_bytes(b"cover")
    (folder / "raw" / "one.dat").write_bytes(content(200_000, seed=6))
    assert api.put(f"/users/{alice.name}/folders/inbox", headers=alice.auth).status_code == 201
    sign_in(page, alice, "/app/files/inbox")

    page.get_by_test_id("file-input").set_input_files(picked)
    expect(page.locator('[data-path="inbox/picked.bin"]')).to_have_attribute("data-state", "done")
    expect(page.locator('[data-path="inbox/picked.bin"]')).to_contain_text("100% · 3.0 MiB of 3.0 MiB")
    assert stored_sha256(api, alice, "inbox/picked.bin") == hashlib.sha256(picked.read_bytes()).hexdigest()
    expect(page.locator('.row[data-name="picked.bin"]')).to_be_visible()  # the listing refreshed
    accessible_at_both_widths(page)

    page.get_by_label("Upload a folder").set_input_files(folder)
    for path in ("inbox/album/cover.txt", "inbox/album/raw/one.dat"):
        expect(page.locator(f'[data-path="{path}"]')).to_have_attribute("data-state", "done")
    assert stored_sha256(api, alice, "inbox/album/raw/one.dat") == hashlib.sha256(content(200_000, seed=6)).hexdigest()

    # A drop anywhere on the page: a DataTransfer holding a file, as a drag from the desktop brings.
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(5000).fill(7)], "dropped.bin"));
            return transfer;
        }"""
    )
    page.dispatch_event("main", "dragover", {"dataTransfer": transfer})
    expect(page.get_by_text("Drop to upload into inbox")).to_be_visible()
    page.dispatch_event("main", "drop", {"dataTransfer": transfer})
    expect(page.locator('[data-path="inbox/dropped.bin"]')).to_have_attribute("data-state", "done")
    assert stored_sha256(api, alice, "inbox/dropped.bin") == hashlib.sha256(bytes([7]) * 5000).hexdigest()


def test_progress_speed_and_cancel(page: Page, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    slow = tmp_path / "slow.bin"
    slow.write_bytes(content(12 * MiB, seed=8))
    sign_in(page, alice)
    throttle(page, 1 * MiB)
    page.get_by_test_id("file-input").set_input_files(slow)
    wait_for_percent(page, "slow.bin", 5)
    expect(page.locator('[data-path="slow.bin"]')).to_contain_text("/s")  # the speed
    page.get_by_role("button", name="Cancel upload of slow.bin").click()
    expect(page.locator('[data-path="slow.bin"]')).to_have_attribute("data-state", "cancelled")
    assert api.get(f"/users/{alice.name}/files/slow.bin/info", headers=alice.auth).status_code == 404


def test_an_upload_cut_by_going_offline_resumes(page: Page, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    big = tmp_path / "cut.bin"
    big.write_bytes(content(20 * MiB, seed=9))
    sign_in(page, alice)
    cdp = throttle(page, 4 * MiB)
    page.get_by_test_id("file-input").set_input_files(big)
    wait_for_percent(page, "cut.bin", 30)
    emulate(cdp, offline=True, bytes_per_second=4 * MiB)
    expect(page.locator('[data-path="cut.bin"]')).to_have_attribute("data-state", "waiting")
    expect(page.locator('[data-path="cut.bin"]')).to_contain_text("connection lost, retrying")
    cut_at = sent_percent(page, "cut.bin")
    time.sleep(1)
    emulate(cdp, offline=False, bytes_per_second=4 * MiB)
    expect(page.locator('[data-path="cut.bin"]')).to_have_attribute("data-state", "done", timeout=90_000)
    assert 30 <= cut_at < 100
    assert stored_sha256(api, alice, "cut.bin") == hashlib.sha256(big.read_bytes()).hexdigest()


def test_an_upload_resumes_after_a_page_reload(page: Page, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    big = tmp_path / "reload.bin"
    big.write_bytes(content(20 * MiB, seed=10))
    sign_in(page, alice)
    throttle(page, 4 * MiB)
    page.get_by_test_id("file-input").set_input_files(big)
    wait_for_percent(page, "reload.bin", 60)  # past the first 8 MiB part, which the server keeps
    page.reload()
    patches: list[Request] = []
    page.on("request", lambda request: patches.append(request) if request.method == "PATCH" else None)
    page.get_by_test_id("file-input").set_input_files(big)  # the same file again, as a person would
    upload = page.locator('[data-path="reload.bin"]')
    expect(upload).to_have_attribute("data-state", "done", timeout=90_000)
    expect(upload).to_contain_text("resumed")
    assert int(patches[0].headers["upload-offset"]) >= 8 * MiB
    assert stored_sha256(api, alice, "reload.bin") == hashlib.sha256(big.read_bytes()).hexdigest()
