"""Download analytics end to end: downloads through the API and synthetic events in three windows,
counted exactly by the stack's Spark job, served at /analytics/downloads; again after a restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from confluent_kafka import Producer

from liftbit_common.events import EventType, FileEvent
from scripts.stack.info import StackInfo
from tests.support.analytics import Totals, ground_truth
from tests.support.events import EventLog
from tests.support.http import put
from tests.support.users import User

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


def synthetic(owner: str, now: datetime, sizes: list[int]) -> list[FileEvent]:
    """Downloads in three consecutive windows, spanning under six minutes so that all stay within
    the 10-minute watermark, plus a redelivered duplicate and an upload, which must not count."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    current = epoch + (now - epoch) // WINDOW * WINDOW
    moments = (
        current - timedelta(seconds=30),
        current + timedelta(seconds=10),
        current + WINDOW + timedelta(seconds=10),
    )
    events = [
        FileEvent(type=EventType.DOWNLOAD, owner=owner, filename="s.bin", size=size, actor=owner, occurred_at=at)
        for at in moments
        for size in sizes
    ]
    events.append(events[0])  # at-least-once: the same event_id again
    events.append(FileEvent(type=EventType.UPLOAD, owner=owner, filename="s.bin", size=10**9, actor=owner))
    return events


def produce(stack: StackInfo, events: list[FileEvent]) -> None:
    producer = Producer({"bootstrap.servers": stack.env["KAFKA_BOOTSTRAP_SERVERS"], "enable.idempotence": False})
    for event in events:
        producer.produce(stack.env["KAFKA_TOPIC"], key=event.key, value=event.to_json_bytes())
    assert producer.flush(10) == 0


def test_download_windows_are_exact_and_survive_a_restart(
    stack: StackInfo, api: httpx.Client, events: EventLog, alice: User
) -> None:
    now = datetime.now(UTC)
    since = now - timedelta(minutes=15)
    baseline = settled(api, alice, since)

    body = b"x" * 3000
    put(api, alice, "real.bin", body)
    for _ in range(3):
        assert api.get(f"/users/{alice.name}/files/real.bin", headers=alice.auth).content == body
    api_downloads = [
        FileEvent.model_validate({k: v for k, v in e.items() if k != "_key"})
        for e in events.wait_for(lambda e: e["owner"] == alice.name and e["type"] == "download", 3)
    ]
    first = synthetic(alice.name, now, [5, 3 * 1024**3])  # 64-bit sums
    produce(stack, first)
    expected = plus(baseline, ground_truth([*api_downloads, *first]))
    assert len(ground_truth(first)) == 3  # three windows
    seen = wait_for(api, alice, since, expected)
    assert {k: seen.get(k) for k in expected} == expected

    # The same rows are printed to the service's log (the console sink), with exact counts.
    log = (stack.home / "logs" / "analytics_ms.log").read_text()
    assert "Batch:" in log
    ahead = max(ground_truth(first))  # the window a minute ahead holds only synthetic events
    assert f"|{expected[ahead][1]}|" in log.replace(" ", "")

    # Restart the job: it resumes from its checkpoint, no loss, no double counting.
    stack.launcher("stop", "analytics_ms")
    second = synthetic(alice.name, now, [7])
    produce(stack, second)  # produced while the job is down
    stack.launcher("start", "analytics_ms")
    expected = plus(expected, ground_truth(second))
    seen = wait_for(api, alice, since, expected, timeout=240)
    assert {k: seen.get(k) for k in expected} == expected
