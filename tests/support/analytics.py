"""Helpers the analytics tests share: synthetic events, ground truth, producing, waiting."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
from confluent_kafka import Producer

from liftbit_common.events import EventType, FileEvent

Totals = dict[datetime, tuple[int, int]]  # window start → (downloads, bytes)


def event(at: datetime, size: int, *, kind: EventType = EventType.DOWNLOAD, owner: str = "alice") -> FileEvent:
    return FileEvent(
        type=kind,
        owner=owner,
        filename="report.pdf",
        size=size,
        actor="bob",
        occurred_at=at,
    )


def utc(hour: int, minute: int, second: int = 0, millisecond: int = 0) -> datetime:
    return datetime(2026, 1, 15, hour, minute, second, millisecond * 1000, tzinfo=UTC)


def ground_truth(events: Iterable[FileEvent], window: timedelta = timedelta(minutes=5)) -> Totals:
    """What the job must report, computed without Spark: downloads, each event id once."""
    seen: set[uuid.UUID] = set()
    totals: defaultdict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for e in events:
        if e.type is not EventType.DOWNLOAD or e.event_id in seen:
            continue
        seen.add(e.event_id)
        start = epoch + (e.occurred_at - epoch) // window * window
        totals[start][0] += 1
        totals[start][1] += e.size
    return {start: (count, size) for start, (count, size) in totals.items()}


def produce(producer: Producer, topic: str, events: Iterable[FileEvent]) -> None:
    for e in events:
        producer.produce(topic, key=e.key, value=e.to_json_bytes())
        producer.poll(0)
    assert producer.flush(10) == 0


def stored_totals(database_url: str) -> Totals:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT window_start, downloads, bytes FROM download_windows").fetchall()
    return {start: (downloads, size) for start, downloads, size in rows}


def wait_for_totals(database_url: str, expected: Totals, timeout: float = 120) -> Totals:
    """Poll download_windows until it equals ``expected``; return what it holds at the end."""
    deadline = time.monotonic() + timeout
    while True:
        stored = stored_totals(database_url)
        if stored == expected or time.monotonic() > deadline:
            return stored
        time.sleep(0.2)
