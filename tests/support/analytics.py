"""Helpers the analytics tests share: synthetic events, ground truth, producing, waiting (in
Postgres, or for the windows /analytics/downloads serves)."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from confluent_kafka import Producer

from liftbit_common.events import EventType, FileEvent
from tests.support.users import User

Totals = dict[datetime, tuple[int, int]]  # window start → (downloads, bytes)


FileKey = tuple[datetime, str, str]  # window start, owner, file id
FileTotals = dict[FileKey, tuple[int, int]]


def event(
    at: datetime,
    size: int,
    *,
    kind: EventType = EventType.DOWNLOAD,
    owner: str = "alice",
    file_id: str | None = None,
    path: str | None = None,
    link_id: str | None = None,
    client_address: str | None = None,
) -> FileEvent:
    return FileEvent(
        type=kind,
        owner=owner,
        filename=(path or "report.pdf").rpartition("/")[2],
        size=size,
        actor=f"link:{link_id}" if link_id else "bob",
        occurred_at=at,
        file_id=file_id,
        path=path,
        link_id=link_id,
        client_address=client_address,
    )


def window_of(moment: datetime, window: timedelta = timedelta(minutes=5)) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (moment - epoch) // window * window


def utc(hour: int, minute: int, second: int = 0, millisecond: int = 0) -> datetime:
    return datetime(2026, 1, 15, hour, minute, second, millisecond * 1000, tzinfo=UTC)


def ground_truth(events: Iterable[FileEvent], window: timedelta = timedelta(minutes=5)) -> Totals:
    """What the job must report, computed without Spark: downloads, each event id once."""
    totals: defaultdict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for e in distinct_downloads(events):
        start = window_of(e.occurred_at, window)
        totals[start][0] += 1
        totals[start][1] += e.size
    return {start: (count, size) for start, (count, size) in totals.items()}


def distinct_downloads(events: Iterable[FileEvent]) -> list[FileEvent]:
    """The downloads among ``events``, each event id once."""
    seen: set[uuid.UUID] = set()
    found = []
    for e in events:
        if e.type is EventType.DOWNLOAD and e.event_id not in seen:
            seen.add(e.event_id)
            found.append(e)
    return found


def file_ground_truth(events: Iterable[FileEvent]) -> FileTotals:
    """Per (window, owner, file): downloads and bytes, without Spark (file id None → '')."""
    totals: defaultdict[FileKey, list[int]] = defaultdict(lambda: [0, 0])
    for e in distinct_downloads(events):
        key = (window_of(e.occurred_at), e.owner, e.file_id or "")
        totals[key][0] += 1
        totals[key][1] += e.size
    return {key: (count, size) for key, (count, size) in totals.items()}


def stored_file_totals(database_url: str) -> FileTotals:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT window_start, owner, file_id, sum(downloads)::bigint, sum(bytes)::bigint FROM download_counts"
            " GROUP BY window_start, owner, file_id"
        ).fetchall()
    return {(start, owner, file_id): (downloads, size) for start, owner, file_id, downloads, size in rows}


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


WINDOW = timedelta(minutes=5)


def windows(api: httpx.Client, user: User, since: datetime) -> Totals:
    response = api.get("/analytics/downloads", params={"since": since.isoformat()}, headers=user.auth)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    for row in rows:
        start, end = datetime.fromisoformat(row["window_start"]), datetime.fromisoformat(row["window_end"])
        assert end - start == WINDOW
    return {datetime.fromisoformat(r["window_start"]): (r["downloads"], r["bytes"]) for r in rows}


def settled(api: httpx.Client, user: User, since: datetime, quiet: float = 4.0, timeout: float = 120) -> Totals:
    """The windows once nothing has changed for ``quiet`` seconds (earlier tests' events are in)."""
    deadline = time.monotonic() + timeout
    last, unchanged_since = windows(api, user, since), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = windows(api, user, since)
        if now != last:
            last, unchanged_since = now, time.monotonic()
        elif time.monotonic() - unchanged_since >= quiet:
            return now
    raise AssertionError("download windows never settled")


def wait_for(api: httpx.Client, user: User, since: datetime, expected: Totals, timeout: float = 180) -> Totals:
    deadline = time.monotonic() + timeout
    while True:
        seen = windows(api, user, since)
        if all(seen.get(start) == totals for start, totals in expected.items()) or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def plus(base: Totals, extra: Totals) -> Totals:
    totals = dict(base)
    for start, (downloads, size) in extra.items():
        before = totals.get(start, (0, 0))
        totals[start] = (before[0] + downloads, before[1] + size)
    return totals


def synthetic(owner: str, now: datetime, sizes: list[int], file_id: str | None = None) -> list[FileEvent]:
    """Downloads (of ``file_id``) in three consecutive windows, spanning under six minutes so that
    all stay within the 10-minute watermark, plus a redelivered duplicate and an upload, which must
    not count."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    current = epoch + (now - epoch) // WINDOW * WINDOW
    moments = (
        current - timedelta(seconds=30),
        current + timedelta(seconds=10),
        current + WINDOW + timedelta(seconds=10),
    )
    events = [
        FileEvent(
            type=EventType.DOWNLOAD,
            owner=owner,
            filename="s.bin",
            size=size,
            actor=owner,
            occurred_at=at,
            file_id=file_id,
            path="s.bin" if file_id else None,
        )
        for at in moments
        for size in sizes
    ]
    events.append(events[0])  # at-least-once: the same event_id again
    events.append(FileEvent(type=EventType.UPLOAD, owner=owner, filename="s.bin", size=10**9, actor=owner))
    return events
