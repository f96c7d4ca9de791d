"""Every upload, download and delete is one message on file-events, per the event contract."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx

from tests.support.events import EventLog
from tests.support.http import put
from tests.support.users import User

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_upload_download_delete_each_publish_one_event(
    api: httpx.Client, events: EventLog, alice: User, bob: User
) -> None:
    before = datetime.now(UTC)
    put(api, alice, "e.txt", b"0123456789")
    api.put(f"/users/{alice.name}/files/e.txt/permissions/{bob.name}", headers=alice.auth)
    assert api.get(f"/users/{alice.name}/files/e.txt", headers=bob.auth).status_code == 200
    assert api.get(f"/users/{alice.name}/files/e.txt", headers=alice.auth | {"Range": "bytes=2-5"}).status_code == 206
    assert api.head(f"/users/{alice.name}/files/e.txt", headers=alice.auth).status_code == 200  # no event
    assert api.delete(f"/users/{alice.name}/files/e.txt", headers=alice.auth).status_code == 204

    found = events.of_owner(alice.name, 4)
    assert [(e["type"], e["actor"], e["size"]) for e in found] == [
        ("upload", alice.name, 10),
        ("download", bob.name, 10),
        ("download", alice.name, 4),  # a range counts the bytes served
        ("trash", alice.name, 10),  # DELETE moves the file to the trash
    ]
    for event in found:
        assert set(event) == {
            "schema_version",
            "event_id",
            "type",
            "owner",
            "filename",
            "size",
            "actor",
            "occurred_at",
            "file_id",
            "path",
            "link_id",
            "client_address",
            "uploader",
            "detail",
            "_key",
        }
        assert event["link_id"] is event["client_address"] is event["uploader"] is None  # not through a link
        assert event["detail"] is None  # admin actions only
        assert event["schema_version"] == 1
        assert event["_key"] == alice.name
        assert event["filename"] == event["path"] == "e.txt"
        assert event["file_id"] == found[0]["file_id"]
        uuid.UUID(event["event_id"])
        assert TIMESTAMP.match(event["occurred_at"]), event["occurred_at"]
        assert datetime.fromisoformat(event["occurred_at"]) >= before.replace(microsecond=0)
    assert len({e["event_id"] for e in found}) == 4
    # Nothing more: HEAD and the failed requests published nothing.
    assert len(events.of_owner(alice.name, 5, timeout=60, quiet_seconds=1.5)) == 4


def test_refused_requests_publish_nothing(api: httpx.Client, events: EventLog, alice: User, bob: User) -> None:
    put(api, alice, "x.txt", b"x")
    assert api.get(f"/users/{alice.name}/files/x.txt", headers=bob.auth).status_code == 404
    assert api.get(f"/users/{alice.name}/files/x.txt", headers=alice.auth | {"Range": "bytes=9-"}).status_code == 416
    assert api.put(f"/users/{alice.name}/files/y.txt", content=b"y", headers=bob.auth).status_code == 403
    etag = api.head(f"/users/{alice.name}/files/x.txt", headers=alice.auth).headers["etag"]
    not_modified = api.get(f"/users/{alice.name}/files/x.txt", headers=alice.auth | {"If-None-Match": etag})
    assert not_modified.status_code == 304
    # Reading the topic from its start takes a while once the suite has filled it.
    assert [e["type"] for e in events.of_owner(alice.name, 2, timeout=10)] == ["upload"]
