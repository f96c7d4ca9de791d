"""kill -9 of files_ms or storage_ms in the middle of a large streaming upload: the file keeps its
previous content (never a partial one), and after a sweep neither S3 parts nor orphan objects
are left behind."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from scripts.stack.info import StackInfo
from scripts.stack.invariants import check_storage, file_path, sweep
from tests.support.faults import Faults
from tests.support.users import register

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024
UPLOAD_BYTES = 512 * MiB


def multipart_uploads(s3: S3Client, bucket: str) -> dict[str, str]:
    """Unfinished multipart uploads in the bucket: upload id → key."""
    found: dict[str, str] = {}
    for listing in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        found |= {u["UploadId"]: u["Key"] for u in listing.get("Uploads", [])}
    return found


def wait_for_parts(s3: S3Client, bucket: str, known: set[str], timeout: float = 30) -> tuple[str, str]:
    """A new multipart upload that already holds parts: the streaming upload is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for upload_id, key in multipart_uploads(s3, bucket).items():
            if upload_id not in known and s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts"):
                return upload_id, key
        time.sleep(0.05)
    raise AssertionError("the upload never reached S3")


@pytest.mark.parametrize("part", ["files_ms", "storage_ms"])
def test_kill_9_mid_upload_leaves_no_partial_file_and_no_leftovers(
    stack: StackInfo, faults: Faults, api: httpx.Client, part: str
) -> None:
    owner = register(api)
    path = file_path(owner.name, "big.bin")
    previous = b"the previous version"
    assert api.put(path, content=previous, headers=owner.auth).status_code == 201
    endpoints = faults.endpoints
    s3 = endpoints.s3()
    known = set(multipart_uploads(s3, endpoints.s3_bucket))

    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def body() -> Iterator[bytes]:
        chunk = os.urandom(MiB)
        for _ in range(UPLOAD_BYTES // MiB):
            if stop.is_set():
                return  # short of Content-Length: the client aborts, it cannot end the body early
            yield chunk
            time.sleep(0.002)

    def upload() -> None:
        headers = owner.auth | {"Content-Length": str(UPLOAD_BYTES)}
        try:
            with httpx.Client(base_url=stack.url, timeout=60) as client:
                response = client.put(path, content=body(), headers=headers)
                outcome["status"], outcome["text"] = response.status_code, response.text[:300]
        except Exception as exc:  # httpx's errors, and h11's when the body stops short of Content-Length
            outcome["error"] = repr(exc)

    uploader = threading.Thread(target=upload, name="big-upload", daemon=True)
    uploader.start()
    try:
        upload_id, key = wait_for_parts(s3, endpoints.s3_bucket, known)
        during = api.get(path, headers=owner.auth)
        assert (during.status_code, during.content) == (200, previous), "the upload is visible before it ends"
        faults.kill9(part)
    finally:
        stop.set()
        uploader.join(timeout=90)
    assert not uploader.is_alive(), "the client got no answer: the upload hangs"
    assert outcome.get("status") in (None, 503), f"the interrupted upload answered {outcome}"

    faults.start(part)
    faults.wait_healthy()
    after = api.get(path, headers=owner.auth)
    assert (after.status_code, after.content) == (200, previous), "a partial or new version is visible"
    listed = api.get(f"/users/{owner.name}/files", headers=owner.auth).json()["items"]
    assert [(f["filename"], f["size"], f["sha256"]) for f in listed] == [
        ("big.bin", len(previous), hashlib.sha256(previous).hexdigest())
    ]

    left_before_sweep = upload_id in multipart_uploads(s3, endpoints.s3_bucket)
    time.sleep(2.5)  # past the multipart and orphan graces of the test stack
    report = sweep(endpoints)
    assert upload_id not in multipart_uploads(s3, endpoints.s3_bucket), (
        f"the parts of {key} are still in S3 after the sweep {report}"
    )
    problems = list(check_storage(endpoints, owners=[owner.name]))
    assert not problems, f"{problems} (parts left before the sweep: {left_before_sweep}, sweep: {report})"
