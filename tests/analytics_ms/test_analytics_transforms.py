"""The window transforms on batch DataFrames (no stream, no broker)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from pyspark.sql import DataFrame, SparkSession

from analytics_ms.kafka_source import KAFKA_RECORD_SCHEMA
from analytics_ms.sink import collect_windows
from analytics_ms.transforms import download_windows, parse_events
from liftbit_common.events import EventType, FileEvent
from tests.support.analytics import Totals, event, ground_truth, utc

GIB = 1024**3


def records(spark: SparkSession, values: Sequence[bytes]) -> DataFrame:
    """Kafka-shaped records, as either source hands them over."""
    rows = [(b"alice", value, "file-events", 0, offset, utc(12, 0)) for offset, value in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_RECORD_SCHEMA)


def window_totals(spark: SparkSession, events: Sequence[FileEvent]) -> Totals:
    windows = download_windows(parse_events(records(spark, [e.to_json_bytes() for e in events])))
    return {w.window_start: (w.downloads, w.bytes) for w in collect_windows(windows)}


def test_windows_are_five_minutes_including_their_start_and_excluding_their_end(spark: SparkSession) -> None:
    events = [
        event(utc(12, 4, 59, 999), 1),
        event(utc(12, 5, 0, 0), 10),
        event(utc(12, 9, 59, 999), 100),
        event(utc(12, 10, 0, 0), 1000),
    ]
    windows = collect_windows(download_windows(parse_events(records(spark, [e.to_json_bytes() for e in events]))))

    assert [(w.window_start, w.window_end, w.downloads, w.bytes) for w in windows] == [
        (utc(12, 0), utc(12, 5), 1, 1),
        (utc(12, 5), utc(12, 10), 2, 110),
        (utc(12, 10), utc(12, 15), 1, 1000),
    ]


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
    windows = download_windows(parse_events(records(spark, values)))

    assert {w.window_start: (w.downloads, w.bytes) for w in collect_windows(windows)} == {utc(12, 0): (1, 42)}


@pytest.mark.parametrize(
    ("length", "expected_starts"), [("1 minute", [utc(12, 1), utc(12, 2)]), ("1 hour", [utc(12, 0)])]
)
def test_window_length_is_configurable(spark: SparkSession, length: str, expected_starts: list[datetime]) -> None:
    events = [event(utc(12, 1, 30), 1), event(utc(12, 2, 30), 1)]
    frame = download_windows(parse_events(records(spark, [e.to_json_bytes() for e in events])), window=length)

    assert [w.window_start for w in collect_windows(frame)] == expected_starts
