"""The recipients' pages in a real browser (headless Chromium): a password-protected file link
opened, unlocked and downloaded to disk; a folder link browsed into a subfolder; a file request
sent through its form; each page without serious accessibility findings and at phone width."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations
from tests.support.http import content, put
from tests.support.users import User


def link_on(api: httpx.Client, user: User, node_id: str, **options: Any) -> str:
    created = api.post(f"/files/{node_id}/links", json=options, headers=user.auth)
    assert created.status_code == 201, created.text
    return str(urlsplit(created.json()["url"]).path)  # the page's path, opened against the test stack


def node_of(api: httpx.Client, user: User, path: str) -> str:
    return str(api.get(f"/users/{user.name}/files/{path}/info", headers=user.auth).json()["id"])


def test_a_password_link_is_unlocked_and_downloaded_to_disk(
    page: Page, browser_errors: list[str], api: httpx.Client, alice: User
) -> None:
    body = content(3 * 1024 * 1024 + 5, seed=41)
    assert put(api, alice, "contract.pdf", body).status_code == 201
    link = link_on(api, alice, node_of(api, alice, "contract.pdf"), password="open sesame", max_downloads=2)

    page.goto(link)
    expect(page.get_by_role("heading", name="This link is protected")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Password").fill("wrong guess here")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong password")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="Open").click()

    expect(page.get_by_role("heading", name="contract.pdf")).to_be_visible()
    expect(page.get_by_text("3.0 MiB")).to_be_visible()
    assert axe_violations(page) == []
    with page.expect_download() as started:
        page.get_by_role("link", name="Download").click()
    download = started.value
    assert download.suggested_filename == "contract.pdf"
    saved = Path(download.path())
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(body).hexdigest()
    # The wrong password's page is a 401 (the browser logs it); nothing else failed, no script ran.
    assert browser_errors == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]


def test_a_folder_link_is_browsed_into_a_subfolder_at_phone_width(page: Page, api: httpx.Client, alice: User) -> None:
    for path, data in {"trip/day1.txt": b"beach", "trip/photos/sunset.txt": b"orange sky"}.items():
        assert put(api, alice, path, data).status_code == 201
    folder = api.put(f"/users/{alice.name}/folders/trip", headers=alice.auth).json()["id"]
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(link_on(api, alice, folder))
    expect(page.get_by_role("heading", name="trip")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="photos/").click()
    expect(page.get_by_role("link", name="sunset.txt")).to_be_visible()
    expect(page.get_by_role("link", name="day1.txt")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    with page.expect_download() as started:
        page.get_by_role("link", name="sunset.txt").click()
    assert Path(started.value.path()).read_bytes() == b"orange sky"


def test_a_file_request_takes_a_file_through_its_form(
    page: Page, api: httpx.Client, alice: User, tmp_path: Path
) -> None:
    folder = api.put(f"/users/{alice.name}/folders/inbox", headers=alice.auth).json()["id"]
    page.goto(link_on(api, alice, folder, upload_only=True))
    expect(page.get_by_role("heading", name="Send a file")).to_be_visible()
    assert axe_violations(page) == []
    sent = tmp_path / "invoice.txt"
    sent.write_bytes(b"invoice 42")
    page.get_by_label("File").set_input_files(sent)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Received: invoice.txt")
    stored = api.get(f"/users/{alice.name}/files/inbox/invoice.txt", headers=alice.auth)
    assert (stored.status_code, stored.content) == (200, b"invoice 42")
