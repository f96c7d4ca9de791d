"""The web app's file browser: breadcrumbs, folders and files with name, size, modified and type,
sorting, name search, multi-select, usage against the quota, one API call per folder opened, and a
large folder rendered as a window of rows (virtualised)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from playwright.sync_api import Locator, Page, Request, expect

from tests.support.http import put
from tests.support.users import User
from tests.support.web import accessible_at_both_widths, sign_in


def row(page: Page, name: str) -> Locator:
    return page.locator(f'.row[data-name="{name}"]')


def names_on_screen(page: Page) -> list[str]:
    return [name for name in page.locator(".row").evaluate_all("rows => rows.map(r => r.dataset.name)")]


def test_breadcrumbs_details_sort_search_and_select(page: Page, api: httpx.Client, alice: User) -> None:
    for path, body in {
        "reports/2026/q1.txt": b"first quarter",
        "reports/2026/summary.csv": b"a,b\n" * 3000,
        "reports/2026/big.bin": b"\0" * 70_000,
        "reports/2026/notes/todo.txt": b"todo",
    }.items():
        assert put(api, alice, path, body).status_code == 201
    sign_in(page, alice)
    expect(page.get_by_test_id("usage")).to_contain_text("used")
    row(page, "reports").get_by_role("link").click()
    # reports' own listing has arrived (its rows are shown): from here on, only 2026's is awaited.
    expect(row(page, "2026")).to_be_visible()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request) if "/users/" in request.url else None)
    row(page, "2026").get_by_role("link").click()

    crumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(crumbs.get_by_role("link")).to_have_text(["My files", "reports", "2026"])
    expect(page.locator(".row")).to_have_count(4)
    assert [r.url.split("/users/")[1] for r in requests] == [f"{alice.name}/folders/reports/2026?limit=1000"]
    assert names_on_screen(page) == ["notes", "big.bin", "q1.txt", "summary.csv"]  # folders first, by name
    summary = row(page, "summary.csv")
    expect(summary.locator(".size")).to_have_text("12 KiB")
    expect(summary.locator(".type")).to_have_text("text/csv")
    expect(summary.locator(".modified")).to_contain_text(time.strftime("%Y"))
    expect(row(page, "notes").locator(".type")).to_have_text("Folder")
    accessible_at_both_widths(page)

    page.get_by_label("Sort by").select_option("size")
    assert names_on_screen(page) == ["notes", "q1.txt", "summary.csv", "big.bin"]
    page.get_by_role("button", name="Ascending").click()
    assert names_on_screen(page) == ["big.bin", "summary.csv", "q1.txt", "notes"]
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Descending").click()

    page.get_by_role("searchbox", name="Search names").fill("TODO")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 result for")).to_be_visible()
    assert names_on_screen(page) == ["todo.txt"]
    page.get_by_role("button", name="Show the whole folder").click()
    expect(page.locator(".row")).to_have_count(4)

    page.get_by_label("Select q1.txt").check()
    page.get_by_label("Select big.bin").check()
    expect(page.get_by_role("region", name="Selection")).to_contain_text("2 selected")
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_role("status").filter(has_text="2 items moved to the trash")).to_be_visible()
    expect(page.locator(".row")).to_have_count(2)
    listed = api.get(f"/users/{alice.name}/folders/reports/2026", headers=alice.auth).json()["items"]
    assert sorted(node["path"] for node in listed) == ["reports/2026/notes", "reports/2026/summary.csv"]


LARGE = 1_100  # more than the API's largest page (1,000); scripts/ measures 5,000 (see the README)


def test_a_large_folder_is_a_window_of_rows(page: Page, api: httpx.Client, alice: User) -> None:
    def make(index: int) -> int:
        return api.put(f"/users/{alice.name}/folders/many/entry-{index:05d}", headers=alice.auth).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(make, range(LARGE))) == {201}
    sign_in(page, alice, "/app/files/many")
    rows = page.get_by_test_id("rows")
    expect(rows).to_have_attribute("data-count", str(LARGE))
    assert page.locator(".row").count() < 60  # only the rows in view, and a margin
    expect(row(page, "entry-00000")).to_be_visible()
    rows.evaluate("element => { element.scrollTop = element.scrollHeight }")
    expect(row(page, f"entry-{LARGE - 1:05d}")).to_be_visible()
    assert page.locator(".row").count() < 60
    expect(row(page, "entry-00000")).to_have_count(0)
