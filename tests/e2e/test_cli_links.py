"""`liftbit link …` and `liftbit stats`: share links and download statistics from the command line,
checked against what a recipient without an account gets through the printed URL."""

from __future__ import annotations

import json
import time
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


def test_link_create_ls_download_stats_rm(stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    body = content(300_000, seed=7)
    assert put(api, alice, "reports/q4.pdf", body).status_code == 201

    created = me.run(
        "link", "create", "reports/q4.pdf", "--password-prompt", "--max-downloads", "2", stdin=LINK_PASSWORD + "\n"
    )
    assert created.returncode == 0, created.stderr
    assert "will not be shown again" in created.stderr
    token, url, download_url = (printed(created.stdout, label) for label in ("token", "url", "download"))
    assert url.endswith(f"/s/{token}") and url.startswith("http")
    assert download_url == f"{url}/download"
    assert "at most 2 downloads, password required" in created.stdout
    link_id = created.stdout.split()[2]  # "created link ID to PATH: terms"

    (listed,) = json_lines(me.ok("link", "ls", "reports/q4.pdf", "--json").stdout)
    assert (listed["id"], listed["downloads"], listed["max_downloads"]) == (link_id, 0, 2)
    assert listed["has_password"] is True and listed["upload_only"] is False
    assert "token" not in listed

    # a recipient without an account: the password in its header, nothing else
    with httpx.Client(timeout=60) as recipient:
        assert recipient.get(download_url).status_code == 401
        got = recipient.get(download_url, headers={"X-Link-Password": LINK_PASSWORD})
        assert got.status_code == 200, got.text
        assert got.content == body

        table = me.ok("link", "ls", "reports/q4.pdf").stdout
        (row,) = [line.split() for line in table.splitlines() if line.startswith(link_id)]
        assert "1/2" in row and "yes" in row and row[-1] == "active"

        found = stats_once_counted(me, "reports/q4.pdf")
        assert (found["downloads"], found["bytes"]) == (1, len(body))
        assert [(link["link_id"], link["downloads"]) for link in found["links"]] == [(link_id, 1)]
        assert sum(window["downloads"] for window in found["windows"]) == 1
        human = me.ok("stats", "reports/q4.pdf").stdout
        assert human.startswith("reports/q4.pdf: 1 download, 293.0 KiB")
        assert f"link {link_id}" in human
        mine = json.loads(me.ok("stats", "--json", "--since", "1d").stdout)
        assert ("reports/q4.pdf", 1) in [(file["path"], file["downloads"]) for file in mine["top_files"]]
        assert "reports/q4.pdf" in me.ok("stats").stdout

        assert me.ok("link", "rm", link_id).stdout.strip() == f"revoked link {link_id}"
        assert recipient.get(download_url, headers={"X-Link-Password": LINK_PASSWORD}).status_code == 410


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
