"""Files in the web app: a download streamed to disk by plain navigation (the HttpOnly download
cookie, no bearer header) checked byte for byte; new folder, rename, move and delete to the trash;
the trash (restore, purge, empty); a file's versions (download, restore); drag onto a folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.support.http import content, put
from tests.support.users import User
from tests.support.web import accessible_at_both_widths, sign_in


def row(page: Page, name: str) -> Locator:
    return page.locator(f'.row[data-name="{name}"]')


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def paths_in(api: httpx.Client, user: User, folder: str = "") -> list[str]:
    where = f"/users/{user.name}/folders/{folder}" if folder else f"/users/{user.name}/folders"
    return sorted(node["path"] for node in api.get(where, headers=user.auth).json()["items"])


def test_a_download_reaches_the_disk_byte_for_byte(page: Page, api: httpx.Client, alice: User) -> None:
    body = content(6 * 1024 * 1024 + 3, seed=21)
    assert put(api, alice, "video/holiday.mp4", body).status_code == 201
    sign_in(page, alice, "/app/files/video")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["liftbit_session"]
    assert (session["httpOnly"], session["sameSite"]) == (True, "Strict")
    assert page.evaluate("document.cookie") == ""  # out of the page scripts' reach
    with page.expect_download() as started:
        row(page, "holiday.mp4").get_by_role("link").click()
    download = started.value
    assert download.suggested_filename == "holiday.mp4"
    assert sha256(Path(download.path()).read_bytes()) == sha256(body)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert "liftbit_session" not in {cookie["name"] for cookie in page.context.cookies()}


def test_new_folder_rename_move_and_delete(page: Page, api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "draft.txt", b"draft").status_code == 201
    assert put(api, alice, "photo.jpg", b"jpeg").status_code == 201
    sign_in(page, alice)

    page.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog", name="New folder")
    accessible_at_both_widths(page)
    dialog.get_by_label("Folder name").fill("archive")
    dialog.get_by_role("button", name="Create").click()
    expect(row(page, "archive")).to_be_visible()

    row(page, "draft.txt").get_by_role("button", name="Rename draft.txt").click()
    dialog = page.get_by_role("dialog", name="Rename draft.txt")
    dialog.get_by_label("New name").fill("photo.jpg")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog.get_by_role("alert")).not_to_be_empty()  # 409: the API's message, in the dialog
    assert "[object Object]" not in dialog.get_by_role("alert").inner_text()
    dialog.get_by_label("New name").fill("final.txt")
    dialog.get_by_role("button", name="Rename").click()
    expect(row(page, "final.txt")).to_be_visible()

    page.get_by_label("Select final.txt").check()
    page.get_by_label("Select photo.jpg").check()
    page.get_by_role("button", name="Move selected").click()
    dialog = page.get_by_role("dialog", name="Move 2 items")
    dialog.get_by_label("Destination folder").fill("archive")
    dialog.get_by_role("button", name="Move").click()
    expect(row(page, "final.txt")).to_have_count(0)
    assert paths_in(api, alice, "archive") == ["archive/final.txt", "archive/photo.jpg"]

    row(page, "archive").get_by_role("button", name="Delete archive").click()
    expect(page.get_by_role("status").filter(has_text="archive moved to the trash")).to_be_visible()
    assert paths_in(api, alice) == []


def test_the_trash_restores_purges_and_empties(page: Page, api: httpx.Client, alice: User) -> None:
    for name in ("keep.txt", "purge.txt", "empty1.txt", "empty2.txt"):
        assert put(api, alice, name, name.encode()).status_code == 201
        assert api.delete(f"/users/{alice.name}/files/{name}", headers=alice.auth).status_code == 204
    sign_in(page, alice)
    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    expect(page.locator(".trash-list li")).to_have_count(4)
    accessible_at_both_widths(page)

    page.get_by_role("button", name="Restore keep.txt").click()
    expect(page.get_by_role("status").filter(has_text="keep.txt was restored")).to_be_visible()
    page.get_by_role("button", name="Delete for good purge.txt").click()
    expect(page.locator(".trash-list li")).to_have_count(2)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Empty the trash").click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    assert api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"] == []
    assert paths_in(api, alice) == ["keep.txt"]


def test_versions_download_and_restore(page: Page, api: httpx.Client, alice: User) -> None:
    for text in (b"first words", b"second thoughts", b"third time"):
        assert put(api, alice, "essay.txt", text).status_code in (200, 201)
    sign_in(page, alice)
    row(page, "essay.txt").get_by_role("button", name="Versions of essay.txt").click()
    dialog = page.get_by_role("dialog", name="Versions of essay.txt")
    expect(dialog.get_by_role("listitem")).to_have_count(3)
    expect(dialog.get_by_role("listitem").first).to_contain_text("(current)")
    accessible_at_both_widths(page)
    with page.expect_download() as started:
        dialog.get_by_role("link", name="Download version 1").click()
    assert Path(started.value.path()).read_bytes() == b"first words"

    dialog.get_by_role("button", name="Restore version 1").click()
    expect(dialog).to_be_hidden()
    answer = api.get(f"/users/{alice.name}/files/essay.txt", headers=alice.auth)
    assert answer.content == b"first words"


def test_dragging_entries_onto_a_folder_moves_them(page: Page, api: httpx.Client, alice: User) -> None:
    assert api.put(f"/users/{alice.name}/folders/target", headers=alice.auth).status_code == 201
    for name in ("one.txt", "two.txt", "three.txt"):
        assert put(api, alice, name, name.encode()).status_code == 201
    sign_in(page, alice)
    page.get_by_label("Select one.txt").check()
    page.get_by_label("Select two.txt").check()
    row(page, "one.txt").drag_to(row(page, "target"))  # the selection goes with the dragged row
    expect(page.get_by_role("status").filter(has_text="2 items moved to target")).to_be_visible()
    assert paths_in(api, alice, "target") == ["target/one.txt", "target/two.txt"]
    row(page, "three.txt").drag_to(row(page, "target"))
    expect(page.get_by_role("status").filter(has_text="three.txt moved to target")).to_be_visible()
    expect(row(page, "three.txt")).to_have_count(0)
