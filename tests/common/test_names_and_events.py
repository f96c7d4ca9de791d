"""Unit and property tests of the shared rules: names and the event contract."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liftbit_common.events import ADMIN_EVENT_TYPES, SPARK_SCHEMA_DDL, EventType, FileEvent
from liftbit_common.names import InvalidName, normalize_filename, normalize_path, validate_username


@given(st.from_regex(r"[a-z0-9][a-z0-9_.-]{2,31}", fullmatch=True))
def test_every_username_of_the_rule_is_accepted(name: str) -> None:
    assert validate_username(name) == name


@given(st.text(max_size=40))
def test_usernames_outside_the_rule_are_refused(name: str) -> None:
    valid = re.fullmatch(r"[a-z0-9][a-z0-9_.-]{2,31}", name) is not None
    if valid:
        assert validate_username(name) == name
    else:
        with pytest.raises(InvalidName):
            validate_username(name)


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=6))
def test_a_path_is_valid_when_every_segment_is(segments: list[str]) -> None:
    path = "/".join(segments)
    try:
        names = [normalize_filename(segment) for segment in path.split("/")]
    except InvalidName:
        with pytest.raises(InvalidName):
            normalize_path(path)
        return
    if any(name in ("info", "permissions") for name in names[1:]):
        with pytest.raises(InvalidName, match="inside a folder"):
            normalize_path(path)
    else:
        assert normalize_path(path) == "/".join(names)


def test_path_rules() -> None:
    assert normalize_path("photos/e\u0301t\u00e9/a.jpg") == "photos/\u00e9t\u00e9/a.jpg"
    assert normalize_path("info") == "info"  # a top-level name; only inside a folder is it a route
    for bad, fragment in [
        ("a//b", "empty segment"),
        ("/a", "empty segment"),
        ("a/", "empty segment"),
        ("a/../b", "not allowed"),
    ]:
        with pytest.raises(InvalidName, match=fragment):
            normalize_path(bad)


@given(st.text(min_size=1, max_size=300))
def test_filename_rule(name: str) -> None:
    nfc = unicodedata.normalize("NFC", name)
    try:
        encoded = nfc.encode("utf-8")
    except UnicodeEncodeError:
        encoded = b""
    acceptable = (
        0 < len(encoded) <= 255
        and "/" not in nfc
        and nfc not in (".", "..")
        and not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in nfc)
    )
    if acceptable:
        assert normalize_filename(name) == nfc
    else:
        with pytest.raises(InvalidName):
            normalize_filename(name)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\x00b", "a\nb", "\x7f", "x" * 256, "é" * 128])
def test_bad_filenames(name: str) -> None:
    with pytest.raises(InvalidName):
        normalize_filename(name)


def test_an_admin_action_is_an_event_of_the_same_contract() -> None:
    event = FileEvent(type=EventType.USER_DISABLED, owner="dave", filename="", size=0, actor="admin", detail=None)
    wire = json.loads(event.to_json_bytes())
    assert (wire["type"], wire["owner"], wire["actor"], wire["schema_version"]) == ("user_disabled", "dave", "admin", 1)
    assert EventType.USER_DISABLED in ADMIN_EVENT_TYPES
    assert EventType.DOWNLOAD not in ADMIN_EVENT_TYPES


def test_event_wire_format() -> None:
    event = FileEvent(
        type=EventType.DOWNLOAD,
        owner="alice",
        filename="a.txt",
        size=3 * 1024**3,
        actor="bob",
        occurred_at=datetime(2026, 11, 24, 12, 5, 0, 123000, tzinfo=UTC),
    )
    wire = json.loads(event.to_json_bytes())
    assert wire == {
        "schema_version": 1,
        "event_id": str(event.event_id),
        "type": "download",
        "owner": "alice",
        "filename": "a.txt",
        "size": 3 * 1024**3,
        "actor": "bob",
        "occurred_at": "2026-11-24T12:05:00.123Z",
        "file_id": None,  # second-stage fields: null when the producer did not know them
        "path": None,
        "link_id": None,
        "client_address": None,
        "uploader": None,
        "detail": None,  # admin actions only
    }
    assert event.key == b"alice"
    assert FileEvent.from_json_bytes(event.to_json_bytes()) == event
    uuid.UUID(wire["event_id"])
    # The Spark schema names exactly the wire fields.
    assert [field.split()[0] for field in SPARK_SCHEMA_DDL.split(", ")] == list(wire)
