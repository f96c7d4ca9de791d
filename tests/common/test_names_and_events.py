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

from liftbit_common.events import SPARK_SCHEMA_DDL, EventType, FileEvent
from liftbit_common.names import InvalidName, normalize_filename, validate_username


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
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in nfc)
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
    }
    assert event.key == b"alice"
    assert FileEvent.from_json_bytes(event.to_json_bytes()) == event
    uuid.UUID(wire["event_id"])
    # The Spark schema names exactly the wire fields.
    assert [field.split()[0] for field in SPARK_SCHEMA_DDL.split(", ")] == list(wire)
