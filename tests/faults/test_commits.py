"""The metadata commit that makes an upload visible, under the two faults its caller can meet:
an answer that is lost (the caller retries the same commit) and an answer that comes too late
(the caller gives up). Either way the file must never point at missing bytes, and a request the
client was told failed must not take effect later."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import httpx
import psycopg

from liftbit_common.contracts import FileCommit
from liftbit_common.internal_api.metadata import COMMIT_FILE
from scripts.stack.info import StackInfo
from scripts.stack.invariants import check_storage, file_path, sweep
from tests.support.events import EventLog
from tests.support.faults import Faults
from tests.support.users import User, register

RETENTION_SECONDS = 5  # REPLACED_OBJECT_RETENTION_SECONDS of the test stack
CALLER_TIMEOUT_SECONDS = 30  # files_ms's timeout on its calls to metadata_ms


def object_key(stack: StackInfo, owner: str, filename: str) -> str:
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        row = db.execute(
            "SELECT n.object_key FROM nodes n JOIN users u ON u.id = n.owner_id WHERE u.username = %s "
            "AND n.path = %s AND n.trashed_in IS NULL",
            (owner, filename),
        ).fetchone()
    assert row is not None
    return str(row[0])


def distinct_events(events: EventLog, owner: str, count: int) -> list[dict[str, Any]]:
    events.of_owner(owner, count, timeout=20)
    found: dict[str, dict[str, Any]] = {}
    for event in events.of_owner(owner, count + 1, timeout=60, quiet_seconds=1.5):
        found.setdefault(event["event_id"], event)
    return list(found.values())


def test_a_repeated_commit_changes_nothing(
    stack: StackInfo, faults: Faults, api: httpx.Client, events: EventLog
) -> None:
    """files_ms retries a PUT to metadata_ms after a transport error or a 503 (ServiceClient.call):
    when the first attempt had committed, the retry must not queue the file's own object for
    deletion (nor publish a second upload event)."""
    owner = register(api)
    body = b"committed once"
    assert api.put(file_path(owner.name, "c.txt"), content=body, headers=owner.auth).status_code == 201
    key = object_key(stack, owner.name, "c.txt")
    commit = FileCommit(
        object_key=key,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        content_type="application/octet-stream",
        actor=owner.name,
    )
    retry = httpx.request(
        COMMIT_FILE.method,
        stack.env["METADATA_URL"] + COMMIT_FILE.url({"owner": owner.name, "path": "c.txt"}),
        content=commit.model_dump_json(),
        headers=stack.internal_headers() | {"Content-Type": "application/json"},
        timeout=30,
    )
    assert retry.status_code in (200, 201), retry.text  # the answer of the first attempt, again

    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        queued = db.execute("SELECT delete_after FROM object_deletions WHERE object_key = %s", (key,)).fetchone()
    time.sleep(RETENTION_SECONDS + 0.5)
    sweep(faults.endpoints)
    download = api.get(file_path(owner.name, "c.txt"), headers=owner.auth)
    assert queued is None, f"the retried commit queued the live object for deletion (after {queued[0]})"
    assert (download.status_code, download.content) == (200, body)
    uploads = [e for e in distinct_events(events, owner.name, 2) if e["type"] == "upload"]
    assert len(uploads) == 1, f"one upload, {len(uploads)} upload events"


def test_a_commit_slower_than_its_caller_leaves_the_previous_version(
    stack: StackInfo, faults: Faults, api: httpx.Client, events: EventLog
) -> None:
    """The commit waits for a lock (here: a transaction holding the owner's row) longer than
    files_ms waits for it. files_ms answers 503; it must neither delete the new object while the
    commit may still happen, nor may the commit happen after the client was told it failed."""
    owner = register(api)
    path = file_path(owner.name, "slow.txt")
    assert api.put(path, content=b"v1", headers=owner.auth).status_code == 201
    outcome: dict[str, Any] = {}

    def replace(user: User) -> None:
        started = time.monotonic()
        try:
            response = httpx.put(f"{stack.url}{path}", content=b"v2", headers=user.auth, timeout=120)
            outcome["status"], outcome["text"] = response.status_code, response.text[:300]
        except httpx.HTTPError as exc:
            outcome["error"] = repr(exc)
        outcome["seconds"] = time.monotonic() - started

    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        db.execute("SELECT 1 FROM users WHERE username = %s FOR UPDATE", (owner.name,))
        replacer = threading.Thread(target=replace, args=(owner,), daemon=True)
        replacer.start()
        replacer.join(timeout=CALLER_TIMEOUT_SECONDS * 3)
        assert not replacer.is_alive(), "the upload hangs while its commit waits"
    # The lock is released: a commit still waiting in metadata_ms goes through now.
    time.sleep(1)
    assert outcome.get("status") == 503, outcome

    download = api.get(path, headers=owner.auth)
    listed = api.get(f"/users/{owner.name}/files", headers=owner.auth).json()["items"]
    time.sleep(2.5)  # past the orphan grace: an object nothing refers to is the sweeper's
    sweep(faults.endpoints)
    problems = list(check_storage(faults.endpoints, owners=[owner.name]))
    assert download.status_code == 200, f"the listed file {listed} has no bytes: {download.text} {problems}"
    assert download.content == b"v1", "an upload answered 503 took effect afterwards"
    uploads = [e for e in distinct_events(events, owner.name, 2) if e["type"] == "upload"]
    assert len(uploads) == 1, "an upload answered 503 published an event"
    assert not problems, problems
