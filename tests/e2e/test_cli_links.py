"""`liftbit link …` and `liftbit stats`: share links and download statistics from the command line,
checked against what a recipient without an account gets through the printed URL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from scripts.stack.info import StackInfo
from tests.support.cli import Shell, fails, json_lines, shell_of
from tests.support.http import content, put
from tests.support.users import User

LINK_PASSWORD = "open sesame 42"
STATS_DEADLINE_SECONDS = 120  # the analytics trigger is 1 s, but Spark may still be warming up


def printed(output: str, label: str) -> str:
    """The value of a `label: value` line of `liftbit link create`."""
    (value,) = [line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith(f"{label}:")]
    return value


def stats_once_counted(shell: Shell, *args: str) -> dict[str, Any]:
    """`liftbit stats --json …` once the analytics job has counted a download."""
    deadline = time.monotonic() + STATS_DEADLINE_SECONDS
    while True:
        found: dict[str, Any] = json.loads(shell.ok("stats", "--json", *args).stdout)
        if found["downloads"] or time.monotonic() > deadline:
            return found
        time.sleep(1)


@dataclass
class PrintedLink:
    """What `liftbit link create` printed for a file."""

    id: str
    url: str
    download_url: str
    token: str


def create_file_link(shell: Shell, path: str, *options: str, stdin: str = "") -> PrintedLink:
    created = shell.run("link", "create", path, *options, stdin=stdin)
    assert created.returncode == 0, created.stderr
    assert "will not be shown again" in created.stderr
    return PrintedLink(
        id=created.stdout.split()[2],  # "created link ID to PATH: terms"
        url=printed(created.stdout, "url"),
        download_url=printed(created.stdout, "download"),
        token=printed(created.stdout, "token"),
    )


def test_link_create_ls_download_rm(stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    body = content(300_000, seed=7)
    assert put(api, alice, "reports/q4.pdf", body).status_code == 201

    link = create_file_link(
        me, "reports/q4.pdf", "--password-prompt", "--max-downloads", "2", stdin=LINK_PASSWORD + "\n"
    )
    assert link.url.startswith(stack.url) and link.url.endswith(f"/s/{link.token}")
    assert link.download_url == f"{link.url}/download"
    (listed,) = json_lines(me.ok("link", "ls", "reports/q4.pdf", "--json").stdout)
    assert (listed["id"], listed["downloads"], listed["max_downloads"]) == (link.id, 0, 2)
    assert listed["has_password"] is True and listed["upload_only"] is False
    assert "token" not in listed

    # a recipient without an account: the password in its header, nothing else
    with httpx.Client(timeout=60) as recipient:
        assert recipient.get(link.download_url).status_code == 401
        got = recipient.get(link.download_url, headers={"X-Link-Password": LINK_PASSWORD})
        assert got.status_code == 200, got.text
        assert got.content == body

        (row,) = [line.split() for line in me.ok("link", "ls", "reports/q4.pdf").stdout.splitlines()[1:]]
        assert row[0] == link.id and row[-4:] == ["1/2", "yes", "no", "active"]

        assert me.ok("link", "rm", link.id).stdout.strip() == f"revoked link {link.id}"
        assert recipient.get(link.download_url, headers={"X-Link-Password": LINK_PASSWORD}).status_code == 410
    assert "has no share links" in me.run("link", "ls", "reports/q4.pdf").stderr


def test_stats_count_a_link_download(stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    body = content(300_000, seed=8)
    assert put(api, alice, "reports/q3.pdf", body).status_code == 201
    link = create_file_link(me, "reports/q3.pdf")
    assert httpx.get(link.download_url, timeout=60).content == body

    found = stats_once_counted(me, "reports/q3.pdf")
    assert (found["downloads"], found["bytes"]) == (1, len(body))
    assert [(totals["link_id"], totals["downloads"]) for totals in found["links"]] == [(link.id, 1)]
    assert sum(window["downloads"] for window in found["windows"]) == 1
    human = me.ok("stats", "reports/q3.pdf").stdout
    assert human.startswith("reports/q3.pdf: 1 download, 293.0 KiB")
    assert f"link {link.id}" in human

    mine = json.loads(me.ok("stats", "--json", "--since", "1d").stdout)
    assert (mine["downloads"], mine["bytes"]) == (1, len(body))
    assert [(file["path"], file["downloads"]) for file in mine["top_files"]] == [("reports/q3.pdf", 1)]
    assert "reports/q3.pdf" in me.ok("stats").stdout


def test_folder_link_and_errors(stack: StackInfo, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    me.ok("mkdir", "inbox/2026")

    # a folder is found through its parent's listing (the info route is for files only)
    drop = json.loads(me.ok("link", "create", "inbox/2026", "--upload-only", "--expires", "2d", "--json").stdout)
    assert drop["upload_only"] is True and drop["has_password"] is False and drop["token"]
    expires_in = datetime.fromisoformat(drop["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=2) - timedelta(minutes=5) < expires_in <= timedelta(days=2)
    (row,) = [line.split() for line in me.ok("link", "ls", "inbox/2026").stdout.splitlines()[1:]]
    assert row[0] == drop["id"] and row[-3:] == ["no", "yes", "active"]
    assert "has no share links" in me.run("link", "ls", "inbox").stderr

    fails(me.run("link", "create", "inbox/missing.txt"), 3, "inbox/missing.txt")
    fails(me.run("link", "create", "nowhere/missing.txt"), 3, "nowhere/missing.txt")
    fails(me.run("link", "create", "inbox", "--password", "short"), 1, "password")
    fails(me.run("link", "create", "inbox", "--password", LINK_PASSWORD, "--password-prompt"), 1, "either")
    assert me.run("link", "create", "inbox", "--expires", "whenever").returncode == 1
    fails(me.run("link", "rm", "999999999"), 3, "link 999999999")
    fails(me.run("stats", "inbox/missing.txt"), 3, "inbox/missing.txt")
    fails(shell_of(stack, tmp_path, "nobody").run("link", "ls", "inbox"), 2, "not logged in")
