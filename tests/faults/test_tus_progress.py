"""A tus upload sent as one PATCH (tuspy's default) keeps its progress when a service dies in the
middle of it: progress is recorded per completed S3 part, so resuming re-sends at most one part."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from scripts.stack.info import StackInfo
from tests.support.faults import Faults
from tests.support.http import content
from tests.support.tus import TUS
from tests.support.users import register, unique_name

MiB = 1024 * 1024
PART = 8 * MiB  # the stack's TUS_PART_SIZE_BYTES


def recorded_offset(stack: StackInfo, upload_id: str) -> int:
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        row = db.execute('SELECT "offset" FROM uploads WHERE id = %s', (uuid.UUID(upload_id),)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("victim", ["files_ms", "storage_ms"])
def test_a_crash_during_one_large_patch_costs_at_most_one_part(faults: Faults, stack: StackInfo, victim: str) -> None:
    data = content(64 * MiB, seed=8)
    sent_before_stall = 40 * MiB
    with httpx.Client(base_url=stack.url, timeout=120) as api:
        user = register(api, unique_name("crash"))
        metadata = "filename " + base64.b64encode(b"crash.bin").decode()
        created = api.post(
            "/uploads/", headers=user.auth | TUS | {"Upload-Length": str(len(data)), "Upload-Metadata": metadata}
        )
        assert created.status_code == 201
        location = created.headers["location"]
        upload_id = location.rsplit("/", 1)[1]
        stalled = threading.Event()

        def body() -> Iterator[bytes]:
            for start in range(0, sent_before_stall, MiB):
                yield data[start : start + MiB]
            stalled.wait(120)  # the client keeps the request open, as a slow network would

        def one_patch() -> None:
            headers = user.auth | TUS | {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
            with contextlib.suppress(httpx.HTTPError):  # the connection went down with the service
                httpx.patch(location, content=body(), headers=headers, timeout=120)

        sender = threading.Thread(target=one_patch)
        sender.start()
        try:
            deadline = time.monotonic() + 60
            while recorded_offset(stack, upload_id) < 4 * PART:
                assert time.monotonic() < deadline, "no progress recorded while the PATCH is still running"
                time.sleep(0.2)
            faults.kill9(victim)
        finally:
            stalled.set()
            sender.join(timeout=130)
        faults.restore()

        head = api.head(location, headers=user.auth | TUS)
        assert head.status_code == 200
        offset = int(head.headers["upload-offset"])
        assert offset % PART == 0 and sent_before_stall - PART <= offset <= sent_before_stall, offset
        resumed = api.patch(
            location,
            content=data[offset:],
            headers=user.auth | TUS | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        )
        assert resumed.status_code == 204, resumed.text
        assert api.get(f"/users/{user.name}/files/crash.bin", headers=user.auth).content == data
