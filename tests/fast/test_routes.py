"""The public routes in-process: what each answers and what it asks of the other services."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from files_ms.service import resumable
from liftbit_common.contracts import DownloadWindow
from liftbit_common.internal_api.route import Encoded
from tests.support.fakes import FakeDownload
from tests.support.http import error_of, put
from tests.support.in_process import MAX_FILE_SIZE_BYTES, Fakes
from tests.support.tus import TUS
from tests.support.users import User


def test_upload_is_201_then_200_and_stores_the_bytes_and_their_digest(
    api: TestClient, fakes: Fakes, alice: User
) -> None:
    created = put(api, alice, "notes.txt", b"first", **{"Content-Type": "text/plain"})
    assert created.status_code == 201
    info = created.json()
    assert set(info) == {
        "id",
        "type",
        "owner",
        "path",
        "filename",
        "size",
        "content_type",
        "sha256",
        "created_at",
        "updated_at",
    }
    assert (info["owner"], info["filename"], info["size"]) == (alice.name, "notes.txt", 5)
    assert (info["content_type"], info["sha256"]) == ("text/plain", hashlib.sha256(b"first").hexdigest())
    first_key = fakes.metadata.current(alice.name, "notes.txt").object_key
    assert fakes.storage.objects[first_key] == b"first"

    replaced = put(api, alice, "notes.txt", b"second!")
    assert replaced.status_code == 200
    assert replaced.json()["created_at"] == info["created_at"]
    assert replaced.json()["content_type"] == "text/plain"  # none sent: guessed from the name
    second_key = fakes.metadata.current(alice.name, "notes.txt").object_key
    assert second_key != first_key
    assert fakes.storage.objects[second_key] == b"second!"
    assert fakes.metadata.deletions == []  # the first content is kept as a version
    assert fakes.storage.objects[first_key] == b"first"


def test_a_form_upload_names_the_file_after_the_part(api: TestClient, fakes: Fakes, alice: User) -> None:
    response = api.post(
        f"/users/{alice.name}/files",
        files={"file": ("héllo.bin", b"\x00\x01form", "application/x-test")},
        data={"later": "ignored"},
        headers=alice.auth,
    )
    assert response.status_code == 201, response.text
    assert (response.json()["filename"], response.json()["content_type"]) == ("héllo.bin", "application/x-test")
    assert fakes.storage.objects[fakes.metadata.current(alice.name, "héllo.bin").object_key] == b"\x00\x01form"


def test_listings_are_passed_on_as_metadata_ms_encoded_them(api: TestClient, fakes: Fakes, alice: User) -> None:
    assert put(api, alice, "docs/a.txt", b"a").status_code == 201
    listings: list[tuple[str, Coroutine[object, object, Encoded[Any]]]] = [
        ("files", fakes.metadata.list_files(alice.name, 100, None, prefix=None, query=None)),
        ("folders", fakes.metadata.children(alice.name, None, alice.name, 100, None)),
        ("folders/docs", fakes.metadata.children(alice.name, "docs", alice.name, 100, None)),
    ]
    for path, expected in listings:
        listed = api.get(f"/users/{alice.name}/{path}", headers=alice.auth)
        assert listed.status_code == 200 and listed.headers["content-type"] == "application/json"
        assert listed.content == asyncio.run(expected).json  # the same bytes: not parsed and encoded again


def test_a_download_hands_nginx_the_presigned_url_and_records_the_bytes_served(
    api: TestClient, fakes: Fakes, alice: User, bob: User
) -> None:
    sha256 = put(api, alice, "a b?.txt", b"0123456789").json()["sha256"]
    url = f"/users/{alice.name}/files/{quote('a b?.txt', safe='')}"
    assert api.put(f"{url}/permissions/{bob.name}", headers=alice.auth).status_code == 204
    key = fakes.metadata.current(alice.name, "a b?.txt").object_key

    whole = api.get(url, headers=bob.auth)
    assert whole.status_code == 200
    assert whole.headers["etag"] == f'"{sha256}"'
    assert whole.headers["x-accel-redirect"] == f"/_s3/http/s3.test/liftbit/{key}?X-Amz-Signature=fake"
    assert "x-liftbit-range" not in whole.headers
    part = api.get(url, headers=alice.auth | {"Range": "bytes=-4"})
    assert part.headers["x-liftbit-range"] == "bytes=6-9"
    assert [(record.actor, record.size) for _, record in fakes.metadata.downloads] == [
        (bob.name, 10),
        (alice.name, 4),
    ]

    head = api.head(url, headers=bob.auth)
    assert head.status_code == 200
    assert (head.headers["content-length"], head.headers["etag"]) == ("10", f'"{sha256}"')
    assert head.headers["content-disposition"] == "attachment; filename=\"a b?.txt\"; filename*=UTF-8''a%20b%3F.txt"
    described = api.get(f"/users/{alice.name}/files/{quote('a b?.txt', safe='')}/info", headers=bob.auth)
    assert described.json()["sha256"] == sha256
    assert len(fakes.metadata.downloads) == 2  # HEAD and info are not downloads


def test_listing_pages_by_name_with_a_cursor(api: TestClient, alice: User) -> None:
    for name in ("c.txt", "a.txt", "b.txt"):
        assert put(api, alice, name, name.encode()).status_code == 201
    first = api.get(f"/users/{alice.name}/files", params={"limit": 2}, headers=alice.auth).json()
    assert [f["filename"] for f in first["items"]] == ["a.txt", "b.txt"]
    rest = api.get(
        f"/users/{alice.name}/files", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice.auth
    ).json()
    assert ([f["filename"] for f in rest["items"]], rest["next_cursor"]) == (["c.txt"], None)


def test_deleting_a_file_moves_it_to_the_trash_out_of_its_grantees_reach(
    api: TestClient, fakes: Fakes, alice: User, bob: User
) -> None:
    put(api, alice, "gone.txt", b"bye")
    url = f"/users/{alice.name}/files/gone.txt"
    api.put(f"{url}/permissions/{bob.name}", headers=alice.auth)
    assert api.delete(url, headers=alice.auth).status_code == 204
    assert list(fakes.storage.objects.values()) == [b"bye"]  # kept until the trash is purged
    assert api.get(url, headers=alice.auth).status_code == 404
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []
    again = api.delete(url, headers=alice.auth)
    assert (again.status_code, error_of(again)[0]) == (404, "file_not_found")


def test_an_account_describes_itself_and_goes_with_everything_it_owns(
    api: TestClient, fakes: Fakes, alice: User
) -> None:
    put(api, alice, "one.txt", b"1")
    put(api, alice, "two.txt", b"22")
    me = api.get(f"/users/{alice.name}", headers=alice.auth).json()
    assert (me["username"], me["used_bytes"], me["file_count"]) == (alice.name, 3, 2)
    assert me["quota_bytes"] == fakes.metadata.quota_bytes
    assert api.delete(f"/users/{alice.name}", headers=alice.auth).status_code == 204
    assert fakes.storage.objects == {}
    assert alice.name not in fakes.metadata.accounts
    login = api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    assert login.status_code == 401


def test_a_resumable_upload_becomes_a_file_when_its_last_byte_arrives(
    api: TestClient, fakes: Fakes, alice: User
) -> None:
    options = api.options("/uploads/")
    assert options.status_code == 204
    assert (options.headers["tus-checksum-algorithm"], options.headers["tus-max-size"]) == (
        "sha256,sha1,md5",
        str(MAX_FILE_SIZE_BYTES),
    )
    name = base64.b64encode("résumé.txt".encode()).decode()
    created = api.post(
        "/uploads/", headers=alice.auth | TUS | {"Upload-Length": "11", "Upload-Metadata": f"filename {name}"}
    )
    assert created.status_code == 201
    location = created.headers["location"]
    assert created.headers["tus-resumable"] == "1.0.0"
    patch = alice.auth | TUS | {"Content-Type": "application/offset+octet-stream"}
    assert (
        api.patch(location, content=b"hello ", headers=patch | {"Upload-Offset": "0"}).headers["upload-offset"] == "6"
    )
    stale = api.patch(location, content=b"world", headers=patch | {"Upload-Offset": "0"})
    assert (stale.status_code, error_of(stale)[0]) == (409, "offset_mismatch")
    assert api.head(location, headers=alice.auth | TUS).headers["upload-offset"] == "6"
    done = api.patch(location, content=b"world", headers=patch | {"Upload-Offset": "6"})
    assert (done.status_code, done.headers["upload-offset"]) == (204, "11")
    stored = fakes.metadata.current(alice.name, "résumé.txt")
    assert (stored.size, fakes.storage.objects[stored.object_key]) == (11, b"hello world")
    assert fakes.metadata.uploads == {}


def test_a_tus_request_waits_for_the_writer_before_it_then_holds_the_upload_alone(
    api: TestClient, fakes: Fakes, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = api.post(
        "/uploads/", headers=alice.auth | TUS | {"Upload-Length": "4", "Upload-Metadata": "filename eA=="}
    )
    location = created.headers["location"]
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    other_copy = uuid.uuid4()  # a request on another files_ms copy, still storing a cut body
    fakes.metadata.upload_writers[upload_id] = (other_copy, datetime.now(UTC) + timedelta(seconds=0.5))
    started = time.monotonic()
    status = api.head(location, headers=alice.auth | TUS)
    assert status.status_code == 200 and 0.4 < time.monotonic() - started < 5  # waited for its lease to lapse
    assert fakes.metadata.upload_writers == {}  # and let the upload go when it answered

    monkeypatch.setattr(resumable, "LEASE_WAIT_SECONDS", 0.2)
    fakes.metadata.upload_writers[upload_id] = (other_copy, datetime.now(UTC) + timedelta(seconds=60))
    patch = alice.auth | TUS | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    busy = api.patch(location, content=b"data", headers=patch)
    assert (busy.status_code, error_of(busy)[0]) == (409, "upload_busy")
    assert fakes.metadata.upload_writers[upload_id][0] == other_copy  # its lease is not touched
    del fakes.metadata.upload_writers[upload_id]  # that request ended
    done = api.patch(location, content=b"data", headers=patch)
    assert (done.status_code, done.headers["upload-offset"]) == (204, "4")
    assert fakes.metadata.upload_writers == {}


def test_tus_requests_need_the_version_and_the_offset_media_type(api: TestClient, alice: User) -> None:
    created = api.post(
        "/uploads/", headers=alice.auth | TUS | {"Upload-Length": "2", "Upload-Metadata": "filename eA=="}
    )
    location = created.headers["location"]
    no_version = api.head(location, headers=alice.auth)
    assert (no_version.status_code, no_version.headers["tus-version"]) == (412, "1.0.0")
    wrong_type = api.patch(location, content=b"xx", headers=alice.auth | TUS | {"Upload-Offset": "0"})
    assert (wrong_type.status_code, error_of(wrong_type)[0]) == (415, "unsupported_media_type")
    assert api.delete(location, headers=alice.auth | TUS).status_code == 204
    assert api.head(location, headers=alice.auth | TUS).status_code == 404


def test_download_windows_are_passed_on_within_the_bounds(api: TestClient, fakes: Fakes, alice: User) -> None:
    def window(hour: int) -> DownloadWindow:
        start = datetime(2026, 11, 24, hour, tzinfo=UTC)
        return DownloadWindow(window_start=start, window_end=start.replace(minute=5), downloads=hour, bytes=10 * hour)

    fakes.analytics.windows = [window(10), window(11), window(12)]
    response = api.get(
        "/analytics/downloads",
        params={"since": "2026-11-24T11:00:00+00:00", "until": "2026-11-24T12:05:00Z"},
        headers=alice.auth,
    )
    assert response.status_code == 200
    assert [(w["downloads"], w["bytes"]) for w in response.json()] == [(11, 110), (12, 120)]


def test_user_stats_name_top_files_by_their_current_path_and_are_the_users_own(
    api: TestClient, fakes: Fakes, alice: User, bob: User
) -> None:
    kept = put(api, alice, "docs/kept.txt", b"k").json()["id"]
    moved = put(api, alice, "old.txt", b"m").json()["id"]
    trashed = put(api, alice, "gone.txt", b"g").json()["id"]
    api.post(f"/users/{alice.name}/move", json={"from": "old.txt", "to": "docs/new.txt"}, headers=alice.auth)
    api.delete(f"/users/{alice.name}/files/gone.txt", headers=alice.auth)
    at = datetime(2026, 11, 24, 12, tzinfo=UTC)
    fakes.analytics.downloads = [
        *[FakeDownload(at, alice.name, moved, 10) for _ in range(3)],
        *[FakeDownload(at, alice.name, kept, 100, link_id="L1", client_address="198.51.100.1") for _ in range(2)],
        FakeDownload(at, alice.name, trashed, 1000),
        FakeDownload(at.replace(hour=13), alice.name, kept, 7),  # outside ?until
        FakeDownload(at, bob.name, "999", 5),
    ]

    response = api.get(
        f"/users/{alice.name}/stats", params={"until": "2026-11-24T12:30:00Z", "limit": 2}, headers=alice.auth
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "downloads": 6,
        "bytes": 1230,
        "top_files": [
            {"file_id": moved, "path": "docs/new.txt", "downloads": 3, "bytes": 30},
            {"file_id": kept, "path": "docs/kept.txt", "downloads": 2, "bytes": 200},
        ],
    }
    everything = api.get(f"/users/{alice.name}/stats", headers=alice.auth).json()
    assert {f["file_id"]: f["path"] for f in everything["top_files"]} == {
        moved: "docs/new.txt",
        kept: "docs/kept.txt",
        trashed: None,
    }
    assert api.get(f"/users/{alice.name}/stats", headers=bob.auth).status_code == 403
    assert api.get(f"/users/{alice.name}/stats").status_code == 401
    bounds = {"since": "2026-11-24T13:00:00Z", "until": "2026-11-24T12:00:00Z"}
    assert api.get(f"/users/{alice.name}/stats", params=bounds, headers=alice.auth).status_code == 422


def test_an_upload_past_the_quota_is_refused_small_at_the_commit_large_before_any_byte(
    api: TestClient, fakes: Fakes, alice: User
) -> None:
    fakes.metadata.accounts[alice.name].quota_bytes = 1000
    small = put(api, alice, "small.bin", b"x" * 1001)
    # A small upload skips the pre-check: the commit refuses it and its object is removed at once.
    assert small.status_code == 413
    code, message = error_of(small)
    assert code == "quota_exceeded"
    assert "storage quota of 1000 bytes exceeded" in message
    assert fakes.storage.objects == {}
    large = put(api, alice, "large.bin", b"x" * (1024 * 1024 + 1))
    assert large.status_code == 413
    code, message = error_of(large)
    assert code == "quota_exceeded"
    assert "1000 bytes left" in message  # the pre-check's answer, before the body was read
    assert fakes.storage.objects == {}
    assert put(api, alice, "fits.bin", b"x" * 1000).status_code == 201
