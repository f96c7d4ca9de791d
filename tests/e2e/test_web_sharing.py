"""Sharing in the web app: previews (image, text and audio, fetched with the download cookie and Range),
sharing with a user (grants list, revoke) and what the recipient sees under "Shared with me", share
links (create with password and limit, copy, download counts, revoke), the download statistics,
and account deletion with a confirmation."""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.support.http import put
from tests.support.users import User, register
from tests.support.web import accessible_at_both_widths, sign_in


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = (b"\x00" + b"\xff\x00\x00" * 2) * 2
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def one_second_wav() -> bytes:
    """A second of a 440 Hz tone: 8 kHz, 8-bit mono PCM."""
    samples = bytes(128 + int(100 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(8000))
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def details(page: Page, name: str) -> Locator:
    page.locator(f'.row[data-name="{name}"]').get_by_role("button", name=f"Details of {name}").click()
    return page.get_by_role("dialog", name=f"Details of {name}")


def test_previews_of_an_image_and_a_text(page: Page, api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "dot.png", tiny_png(), **{"Content-Type": "image/png"}).status_code == 201
    assert put(api, alice, "readme.txt", b"hello from the preview\n" * 10).status_code == 201
    sign_in(page, alice)
    dialog = details(page, "dot.png")
    image = dialog.get_by_role("img", name="Preview of dot.png")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 2
    accessible_at_both_widths(page)
    dialog.get_by_role("button", name="Close").click()
    dialog = details(page, "readme.txt")
    expect(dialog.get_by_label("Text of readme.txt")).to_contain_text("hello from the preview")


def test_preview_of_an_audio_file_streams_it_with_range_requests(page: Page, api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "tone.wav", one_second_wav(), **{"Content-Type": "audio/wav"}).status_code == 201
    ranges: list[str] = []
    page.on(
        "request",
        lambda request: ranges.append(request.headers.get("range", "")) if "tone.wav" in request.url else None,
    )
    sign_in(page, alice)
    dialog = details(page, "tone.wav")
    audio = dialog.get_by_label("Audio tone.wav")
    expect(audio).to_be_visible()
    page.wait_for_function(
        "element => element.readyState >= 1", arg=audio.element_handle(), timeout=15000
    )  # the browser read the header through the download cookie
    assert abs(audio.evaluate("element => element.duration") - 1.0) < 0.01
    assert any(value.startswith("bytes=") for value in ranges), ranges  # media elements ask by Range


def test_sharing_with_a_user_and_shared_with_me(page: Page, api: httpx.Client, alice: User, bob: User) -> None:
    carol = register(api)
    body = b"the plan, shared"
    assert put(api, alice, "plan.txt", body).status_code == 201
    sign_in(page, alice)
    dialog = details(page, "plan.txt")
    for grantee in (bob.name, carol.name):
        dialog.get_by_label("Username to share with").fill(grantee)
        dialog.get_by_role("button", name="Share", exact=True).click()
        expect(dialog.get_by_role("button", name=f"Revoke {grantee}")).to_be_visible()
    dialog.get_by_label("Username to share with").fill("nobody-at-all")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.get_by_role("alert")).not_to_be_empty()
    dialog.get_by_role("button", name=f"Revoke {carol.name}").click()
    expect(dialog.get_by_role("button", name=f"Revoke {carol.name}")).to_have_count(0)
    file_id = api.get(f"/users/{alice.name}/files/plan.txt/info", headers=alice.auth).json()["id"]
    assert api.get(f"/files/{file_id}/permissions", headers=alice.auth).json() == [bob.name]
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Log out").click()
    sign_in(page, bob)
    page.get_by_role("link", name="Shared with me").click()
    expect(page.get_by_role("heading", name="Shared with me")).to_be_visible()
    expect(page.get_by_text(f"from {alice.name}")).to_be_visible()
    accessible_at_both_widths(page)
    with page.expect_download() as started:
        page.get_by_role("link", name="Download plan.txt").click()
    assert Path(started.value.path()).read_bytes() == body


def test_share_links_and_download_statistics(page: Page, api: httpx.Client, alice: User) -> None:
    body = b"slides " * 1000
    assert put(api, alice, "talk.pdf", body).status_code == 201
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, alice)
    dialog = details(page, "talk.pdf")
    dialog.get_by_label("Password (optional)").fill("let me in please")
    dialog.get_by_label("Download limit (optional)").fill("2")
    dialog.get_by_role("button", name="Create link").click()
    new_link = dialog.get_by_test_id("new-link")
    expect(new_link).to_contain_text("/s/")
    dialog.get_by_role("button", name="Copy link").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    url = new_link.inner_text()
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(dialog.get_by_test_id("link")).to_contain_text("0 downloads of 2 · password")
    accessible_at_both_widths(page)

    got = api.get(f"{urlsplit(url).path}/download", headers={"X-Link-Password": "let me in please"})
    assert got.status_code == 200 and hashlib.sha256(got.content).digest() == hashlib.sha256(body).digest()
    dialog.get_by_role("button", name="Close").click()
    dialog = details(page, "talk.pdf")
    expect(dialog.get_by_test_id("link")).to_contain_text("1 download of 2")
    expect(dialog.get_by_test_id("stats-total")).to_contain_text("served")
    dialog.get_by_role("button", name="Revoke link").click()
    expect(dialog.get_by_test_id("link")).to_have_count(0)
    assert api.get(f"{urlsplit(url).path}/download", headers={"X-Link-Password": "let me in please"}).status_code == 410


def test_account_deletion_asks_for_the_username(page: Page, api: httpx.Client) -> None:
    doomed = register(api)
    sign_in(page, doomed)
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Delete my account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account for good?")
    accessible_at_both_widths(page)
    delete = dialog.get_by_role("button", name="Delete everything")
    expect(delete).to_be_disabled()
    dialog.get_by_label("Type your username").fill(doomed.name)
    delete.click()
    expect(page.get_by_text("Your account was deleted.")).to_be_visible()
    login = api.post("/auth/token", data={"username": doomed.name, "password": doomed.password})
    assert login.status_code == 401
