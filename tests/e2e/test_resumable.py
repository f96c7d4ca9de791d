"""Resumable uploads (tus 1.0) with the official tus Python client and with raw requests."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import boto3
import httpx
import psycopg
import pytest
from mypy_boto3_s3 import S3Client
from tusclient.client import TusClient
from tusclient.storage.filestorage import FileStorage

from scripts.stack.info import StackInfo
from tests.support.http import content, error_of
from tests.support.tus import TUS, create, cut_patch, metadata, offset_of, patch
from tests.support.users import User

MiB = 1024 * 1024


def download(api: httpx.Client, user: User, filename: str) -> bytes:
    response = api.get(f"/users/{user.name}/files/{filename}", headers=user.auth)
    assert response.status_code == 200
    return response.content


def test_the_official_tus_client_uploads_a_file(
    stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path
) -> None:
    path = tmp_path / "tus-upload.bin"
    data = content(13 * MiB + 12345, seed=7)
    path.write_bytes(data)
    client = TusClient(f"{stack.url}/uploads/", headers=alice.auth)
    uploader = client.uploader(str(path), chunk_size=5 * MiB, metadata={"filename": "tus-upload.bin"})
    uploader.upload()
    assert uploader.offset == len(data)
    assert download(api, alice, "tus-upload.bin") == data
    listed = api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]
    assert [(i["filename"], i["size"], i["sha256"]) for i in listed] == [
        ("tus-upload.bin", len(data), hashlib.sha256(data).hexdigest())
    ]


def test_the_official_tus_client_resumes_in_a_new_process(
    stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path
) -> None:
    path = tmp_path / "resume-me.bin"
    data = content(20 * MiB + 3, seed=8)
    path.write_bytes(data)
    storage = FileStorage(str(tmp_path / "urls.json"))
    client = TusClient(f"{stack.url}/uploads/", headers=alice.auth)
    first = client.uploader(
        str(path), chunk_size=6 * MiB, metadata={"filename": "resume-me.bin"}, store_url=True, url_storage=storage
    )
    first.upload(stop_at=12 * MiB)  # the first run stops half way
    assert first.offset == 12 * MiB
    second = client.uploader(
        str(path), chunk_size=6 * MiB, metadata={"filename": "resume-me.bin"}, store_url=True, url_storage=storage
    )
    assert second.url == first.url
    assert second.offset == 12 * MiB  # asked the server, sends only the rest
    second.upload()
    storage.close()
    assert download(api, alice, "resume-me.bin") == data


@pytest.mark.parametrize("cut_at", [1 * MiB, 8 * MiB + 1000, 17 * MiB - 1])
def test_resume_after_a_cut_connection(stack: StackInfo, api: httpx.Client, alice: User, cut_at: int) -> None:
    data = content(17 * MiB, seed=cut_at)
    location = create(api, alice, f"cut-{cut_at}.bin", len(data))
    cut_patch(stack, alice, location, 0, data[:cut_at])
    kept = offset_of(api, alice, location)
    assert 0 <= kept <= cut_at
    resumed = patch(api, alice, location, kept, data[kept:])
    assert resumed.status_code == 204, resumed.text
    assert int(resumed.headers["upload-offset"]) == len(data)
    assert download(api, alice, f"cut-{cut_at}.bin") == data


def test_bytes_received_before_the_cut_are_kept(stack: StackInfo, api: httpx.Client, alice: User) -> None:
    data = content(12 * MiB, seed=3)
    location = create(api, alice, "kept.bin", len(data))
    cut_patch(stack, alice, location, 0, data[: 10 * MiB])
    assert offset_of(api, alice, location) > 5 * MiB  # most of what was sent is not sent again


def test_unaligned_requests_are_stitched_together(api: httpx.Client, alice: User) -> None:
    data = content(19 * MiB + 7, seed=4)
    location = create(api, alice, "pieces.bin", len(data))
    offset = 0
    for size in (3 * MiB + 1, 1, 9 * MiB, 5 * MiB + 5, len(data)):
        piece = data[offset : offset + size]
        response = patch(api, alice, location, offset, piece)
        assert response.status_code == 204
        offset += len(piece)
        assert int(response.headers["upload-offset"]) == offset
        if offset == len(data):
            break
    assert download(api, alice, "pieces.bin") == data


def test_checksum_extension(api: httpx.Client, alice: User) -> None:
    data = content(2 * MiB, seed=5)
    location = create(api, alice, "checked.bin", len(data))
    piece = data[:MiB]
    bad = patch(api, alice, location, 0, piece, **{"Upload-Checksum": "sha1 " + base64.b64encode(b"x" * 20).decode()})
    assert bad.status_code == 460
    assert offset_of(api, alice, location) == 0  # the chunk was discarded
    unknown = patch(api, alice, location, 0, piece, **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400
    good_sum = "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()
    good = patch(api, alice, location, 0, data, **{"Upload-Checksum": good_sum})
    assert good.status_code == 204
    assert download(api, alice, "checked.bin") == data


def test_protocol_errors(api: httpx.Client, alice: User, bob: User) -> None:
    options = api.options("/uploads/")
    assert options.status_code == 204
    assert options.headers["tus-version"] == "1.0.0"
    assert set(options.headers["tus-extension"].split(",")) == {"creation", "termination", "checksum", "expiration"}
    assert "sha256" in options.headers["tus-checksum-algorithm"]
    no_version = api.post("/uploads/", headers=alice.auth | {"Upload-Length": "5", "Upload-Metadata": metadata("v")})
    assert no_version.status_code == 412
    assert no_version.headers["tus-version"] == "1.0.0"
    no_length = api.post("/uploads/", headers=alice.auth | TUS | {"Upload-Metadata": metadata("v")})
    assert no_length.status_code == 400
    no_name = api.post("/uploads/", headers=alice.auth | TUS | {"Upload-Length": "5"})
    assert no_name.status_code == 400
    assert error_of(no_name)[0] == "filename_required"
    bad_name = api.post(
        "/uploads/", headers=alice.auth | TUS | {"Upload-Length": "5", "Upload-Metadata": metadata("..")}
    )
    assert bad_name.status_code == 422
    anonymous = api.post("/uploads/", headers=TUS | {"Upload-Length": "5", "Upload-Metadata": metadata("v")})
    assert anonymous.status_code == 401
    too_big = api.post(
        "/uploads/", headers=alice.auth | TUS | {"Upload-Length": str(4 * 1024**3), "Upload-Metadata": metadata("v")}
    )
    assert too_big.status_code == 413

    location = create(api, alice, "proto.bin", 10)
    assert patch(api, alice, location, 3, b"abc").status_code == 409  # offset mismatch
    wrong_type = api.patch(location, content=b"abc", headers=alice.auth | TUS | {"Upload-Offset": "0"})
    assert wrong_type.status_code == 415
    assert patch(api, alice, location, 0, b"x" * 11).status_code == 413  # past Upload-Length
    assert api.head(location, headers=bob.auth | TUS).status_code == 404  # not bob's
    assert patch(api, bob, location, 0, b"abc").status_code == 404
    assert offset_of(api, alice, location) == 0


def s3_client(stack: StackInfo) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        aws_access_key_id=stack.env["S3_KEY_ID"],
        aws_secret_access_key=stack.env["S3_KEY_SECRET"],
        region_name="us-east-1",
    )


def multipart_upload_ids(stack: StackInfo) -> set[str]:
    listing = s3_client(stack).list_multipart_uploads(Bucket=stack.env["S3_BUCKET"])
    return {u["UploadId"] for u in listing.get("Uploads", [])}


def upload_row(stack: StackInfo, location: str) -> tuple[str, str | None] | None:
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        row = db.execute(
            "SELECT s3_upload_id, tail_key FROM uploads WHERE id = %s", (location.rsplit("/", 1)[1],)
        ).fetchone()
    return (row[0], row[1]) if row else None


def test_termination_removes_what_was_stored(stack: StackInfo, api: httpx.Client, alice: User) -> None:
    location = create(api, alice, "abandon.bin", 20 * MiB)
    assert patch(api, alice, location, 0, content(9 * MiB)).status_code == 204
    row = upload_row(stack, location)
    assert row is not None
    assert row[0] in multipart_upload_ids(stack)
    terminated = api.delete(location, headers=alice.auth | TUS)
    assert terminated.status_code == 204
    assert api.head(location, headers=alice.auth | TUS).status_code == 404
    assert upload_row(stack, location) is None
    sweep = httpx.post(f"{stack.env['FILES_URL']}/internal/sweep", headers=stack.internal_headers(), timeout=60)
    assert sweep.status_code == 200
    assert row[0] not in multipart_upload_ids(stack)


def test_expired_uploads_are_cleaned_up(stack: StackInfo, api: httpx.Client, alice: User) -> None:
    location = create(api, alice, "expire.bin", 20 * MiB)
    assert patch(api, alice, location, 0, content(9 * MiB)).status_code == 204  # leaves a tail
    row = upload_row(stack, location)
    assert row is not None
    s3_upload_id, tail_key = row
    assert tail_key is not None
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        db.execute(
            "UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = %s", (location.rsplit("/", 1)[1],)
        )
    assert api.head(location, headers=alice.auth | TUS).status_code == 404
    sweep = httpx.post(f"{stack.env['FILES_URL']}/internal/sweep", headers=stack.internal_headers(), timeout=60)
    assert sweep.status_code == 200
    assert sweep.json()["expired_uploads"] >= 1
    assert upload_row(stack, location) is None
    assert s3_upload_id not in multipart_upload_ids(stack)
    with pytest.raises(s3_client(stack).exceptions.ClientError):
        s3_client(stack).head_object(Bucket=stack.env["S3_BUCKET"], Key=tail_key)


def test_an_empty_upload_becomes_an_empty_file(api: httpx.Client, alice: User) -> None:
    location = create(api, alice, "nothing.txt", 0)
    assert download(api, alice, "nothing.txt") == b""  # complete at creation: nothing to send
    assert api.head(location, headers=alice.auth | TUS).status_code == 404
