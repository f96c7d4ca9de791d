"""The download transforms on batch DataFrames (no stream, no broker)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from analytics_ms.kafka_source import KAFKA_RECORD_SCHEMA
from analytics_ms.sink import collect_counts
from analytics_ms.transforms import download_counts, parse_events
from liftbit_common.events import EventType, FileEvent
from tests.support.analytics import Totals, event, file_ground_truth, ground_truth, utc

GIB = 1024**3


def records(spark: SparkSession, values: Sequence[bytes]) -> DataFrame:
    """Kafka-shaped records, as either source hands them over."""
    rows = [(b"alice", value, "file-events", 0, offset, utc(12, 0)) for offset, value in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_RECORD_SCHEMA)


def fine_rows(spark: SparkSession, events: Sequence[FileEvent], window: str = "5 minutes") -> list[dict[str, Any]]:
    frame = download_counts(parse_events(records(spark, [e.to_json_bytes() for e in events])), window=window)
    return collect_counts(frame)


def summed_by_window(rows: Sequence[dict[str, Any]]) -> dict[tuple[datetime, datetime], tuple[int, int]]:
    """The platform windows, as the sink sums them from the fine rows."""
    totals: defaultdict[tuple[datetime, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        window = totals[(row["window_start"], row["window_end"])]
        window[0] += row["downloads"]
        window[1] += row["bytes"]
    return {key: (n, size) for key, (n, size) in sorted(totals.items())}


def window_totals(spark: SparkSession, events: Sequence[FileEvent]) -> Totals:
    return {start: totals for (start, _), totals in summed_by_window(fine_rows(spark, events)).items()}


def test_windows_are_five_minutes_including_their_start_and_excluding_their_end(spark: SparkSession) -> None:
    events = [
        event(utc(12, 4, 59, 999), 1),
        event(utc(12, 5, 0, 0), 10),
        event(utc(12, 9, 59, 999), 100),
        event(utc(12, 10, 0, 0), 1000),
    ]

    assert summed_by_window(fine_rows(spark, events)) == {
        (utc(12, 0), utc(12, 5)): (1, 1),
        (utc(12, 5), utc(12, 10)): (2, 110),
        (utc(12, 10), utc(12, 15)): (1, 1000),
    }


def test_uploads_and_deletes_are_not_downloads(spark: SparkSession) -> None:
    events = [
        event(utc(12, 1), 5, kind=EventType.UPLOAD),
        event(utc(12, 2), 7),
        event(utc(12, 3), 11, kind=EventType.DELETE),
        event(utc(12, 6), 13, kind=EventType.UPLOAD),
    ]

    assert window_totals(spark, events) == {utc(12, 0): (1, 7)}


def test_a_redelivered_event_counts_once(spark: SparkSession) -> None:
    once = event(utc(12, 1), 100)
    other = event(utc(12, 2), 1)
    events = [once, other, once, once]

    assert window_totals(spark, events) == {utc(12, 0): (2, 101)}
    assert window_totals(spark, events) == ground_truth(events)


def test_bytes_are_summed_in_64_bits(spark: SparkSession) -> None:
    events = [event(utc(12, 1), 3 * GIB), event(utc(12, 2), 3 * GIB)]

    assert window_totals(spark, events) == {utc(12, 0): (2, 6 * GIB)}


def test_values_that_are_not_events_are_skipped(spark: SparkSession) -> None:
    good = event(utc(12, 1), 42)
    values = [b"not json", b'{"type": "download"}', good.to_json_bytes()]
    rows = collect_counts(download_counts(parse_events(records(spark, values))))

    assert [(r["window_start"], r["downloads"], r["bytes"]) for r in rows] == [(utc(12, 0), 1, 42)]


@pytest.mark.parametrize(
    ("length", "expected_starts"), [("1 minute", [utc(12, 1), utc(12, 2)]), ("1 hour", [utc(12, 0)])]
)
def test_window_length_is_configurable(spark: SparkSession, length: str, expected_starts: list[datetime]) -> None:
    events = [event(utc(12, 1, 30), 1), event(utc(12, 2, 30), 1)]

    assert sorted(row["window_start"] for row in fine_rows(spark, events, window=length)) == expected_starts


def key_and_totals(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["window_start"],
        row["owner"],
        row["file_id"],
        row["link_id"],
        row["client_address"],
        row["downloads"],
        row["bytes"],
        row["path"],
    )


def test_downloads_are_grouped_by_owner_file_link_and_address(spark: SparkSession) -> None:
    events = [
        event(utc(12, 1), 10, file_id="7", path="a.txt"),
        event(utc(12, 2), 20, file_id="7", path="a.txt"),
        event(utc(12, 2), 30, file_id="7", path="a.txt", link_id="L1", client_address="198.51.100.1"),
        event(utc(12, 3), 40, file_id="7", path="a.txt", link_id="L1", client_address="198.51.100.1"),
        event(utc(12, 3), 50, file_id="7", path="a.txt", link_id="L1", client_address="198.51.100.2"),
        event(utc(12, 4), 60, file_id="8", path="b.txt", owner="bob"),
        event(utc(12, 6), 70, file_id="7", path="a.txt"),
    ]

    assert sorted(map(key_and_totals, fine_rows(spark, events))) == [
        (utc(12, 0), "alice", "7", "", "", 2, 30, "a.txt"),
        (utc(12, 0), "alice", "7", "L1", "198.51.100.1", 2, 70, "a.txt"),
        (utc(12, 0), "alice", "7", "L1", "198.51.100.2", 1, 50, "a.txt"),
        (utc(12, 0), "bob", "8", "", "", 1, 60, "b.txt"),
        (utc(12, 5), "alice", "7", "", "", 1, 70, "a.txt"),
    ]


def test_missing_ids_become_empty_strings_and_a_moved_file_keeps_the_greatest_path(spark: SparkSession) -> None:
    events = [
        event(utc(12, 1), 1),  # a seed-era event: no file_id, path, link or address
        event(utc(12, 1), 2, file_id="7", path="old/a.txt"),
        event(utc(12, 2), 4, file_id="7", path="new/a.txt"),  # moved within the window
    ]

    assert sorted(map(key_and_totals, fine_rows(spark, events))) == [
        (utc(12, 0), "alice", "", "", "", 1, 1, None),
        (utc(12, 0), "alice", "7", "", "", 2, 6, "old/a.txt"),
    ]


def test_a_redelivered_link_download_counts_once_in_its_group(spark: SparkSession) -> None:
    once = event(utc(12, 1), 100, file_id="7", link_id="L1", client_address="198.51.100.1")
    events = [once, event(utc(12, 2), 1, file_id="7"), once, once]
    rows = fine_rows(spark, events)

    assert {(r["link_id"], r["downloads"], r["bytes"]) for r in rows} == {("L1", 1, 100), ("", 1, 1)}
    assert sum(r["downloads"] for r in rows) == sum(n for n, _ in file_ground_truth(events).values()) == 2


def test_the_jobs_own_link_alerts_are_not_downloads(spark: SparkSession) -> None:
    alert = event(utc(12, 1), 5000, kind=EventType.LINK_ALERT, file_id="7", link_id="L1")
    created = event(utc(12, 1), 0, kind=EventType.LINK_CREATED, file_id="7", link_id="L1")

    assert fine_rows(spark, [alert, created, event(utc(12, 2), 3, file_id="7")]) == [
        {
            "window_start": utc(12, 0),
            "window_end": utc(12, 5),
            "owner": "alice",
            "file_id": "7",
            "link_id": "",
            "client_address": "",
            "downloads": 1,
            "bytes": 3,
            "path": None,
        }
    ]
