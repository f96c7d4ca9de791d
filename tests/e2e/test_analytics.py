"""Download analytics end to end: downloads through the API and synthetic events in three windows,
counted exactly by the stack's Spark job, served at /analytics/downloads; again after a restart."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from confluent_kafka import Producer

from liftbit_common.events import EventType, FileEvent
from scripts.stack.info import StackInfo
from tests.support.analytics import file_ground_truth, ground_truth, plus, settled, synthetic, wait_for
from tests.support.events import EventLog
from tests.support.faults import Faults
from tests.support.http import put
from tests.support.users import User


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
    file_id = f"synthetic-{uuid.uuid4().hex[:8]}"
    first = synthetic(alice.name, now, [5, 3 * 1024**3], file_id)  # 64-bit sums
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
    second = synthetic(alice.name, now, [7], file_id)
    produce(stack, second)  # produced while the job is down
    stack.launcher("start", "analytics_ms")
    expected = plus(expected, ground_truth(second))
    seen = wait_for(api, alice, since, expected, timeout=240)
    assert {k: seen.get(k) for k in expected} == expected

    # The per-file rows too: each window of the file exact, nothing lost or counted twice.
    per_file = {start: totals for (start, _, _), totals in file_ground_truth([*first, *second]).items()}
    stats = wait_for_stats(stack, {"file_id": file_id, "link_ids": []}, sum(n for n, _ in per_file.values()))
    assert {datetime.fromisoformat(w["window_start"]): (w["downloads"], w["bytes"]) for w in stats["windows"]} == (
        per_file
    )


def node_stats(stack: StackInfo, body: dict[str, Any]) -> dict[str, Any]:
    """NODE_STATS straight from analytics_ms (files_ms's /files/{id}/stats passes it on)."""
    response = httpx.post(
        f"{stack.env['ANALYTICS_URL']}/stats/nodes", json=body, headers=stack.internal_headers(), timeout=30
    )
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


def wait_for_stats(stack: StackInfo, body: dict[str, Any], downloads: int, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = node_stats(stack, body)
        if stats["downloads"] >= downloads or time.monotonic() > deadline:
            return stats
        time.sleep(0.5)


def test_owner_stats_per_file_and_link_with_the_leak_alert(
    stack: StackInfo, api: httpx.Client, events: EventLog, alice: User
) -> None:
    now = datetime.now(UTC)
    since = now - timedelta(minutes=15)
    baseline = settled(api, alice, since)
    shared = put(api, alice, "docs/shared.pdf", b"s" * 100).json()["id"]
    private = put(api, alice, "private.txt", b"p" * 10).json()["id"]
    leaky, quiet = f"leaky-{uuid.uuid4().hex[:8]}", f"quiet-{uuid.uuid4().hex[:8]}"

    def download(file_id: str, path: str, size: int, link: str | None = None, address: str | None = None) -> FileEvent:
        return FileEvent(
            type=EventType.DOWNLOAD,
            owner=alice.name,
            filename=path.rpartition("/")[2],
            size=size,
            actor=f"link:{link}" if link else alice.name,
            occurred_at=now,
            file_id=file_id,
            path=path,
            link_id=link,
            client_address=address,
        )

    produced = [
        *[download(shared, "docs/shared.pdf", 100, leaky, f"203.0.113.{n}") for n in range(6)],  # 6 addresses > 5
        download(shared, "docs/shared.pdf", 100, leaky, "203.0.113.0"),
        *[download(shared, "docs/shared.pdf", 100, quiet, "198.51.100.7") for _ in range(2)],
        download(shared, "docs/shared.pdf", 100),  # by the owner, no link
        *[download(private, "private.txt", 10) for _ in range(9)],
    ]
    produced.append(produced[0])  # redelivered: counted once
    produce(stack, produced)

    stats = wait_for_stats(stack, {"file_id": shared, "link_ids": [leaky, quiet]}, 10)
    assert (stats["downloads"], stats["bytes"]) == (10, 1000)
    [window] = stats["windows"]
    assert (window["downloads"], window["bytes"], window["addresses"], window["alert"]) == (10, 1000, 7, True)
    assert {
        link["link_id"]: (link["downloads"], link["bytes"], link["addresses"], link["alert"]) for link in stats["links"]
    } == {
        leaky: (7, 700, 6, True),
        quiet: (2, 200, 1, False),
    }
    # A folder's stats: its links only (no file id); the quiet link alone raised no alert.
    folder = node_stats(stack, {"file_id": None, "link_ids": [quiet]})
    assert (folder["downloads"], folder["windows"][0]["alert"]) == (2, False)

    # Exactly one link_alert, with the link's owner, file and bytes; never counted as a download.
    def is_alert(e: dict[str, Any]) -> bool:
        return bool(e["type"] == "link_alert" and e["link_id"] == leaky)

    [alert] = events.wait_for(is_alert, 1, timeout=60)
    assert (alert["owner"], alert["file_id"], alert["path"], alert["size"], alert["actor"]) == (
        alice.name,
        shared,
        "docs/shared.pdf",
        700,
        "analytics",
    )
    time.sleep(6)  # a trigger or more later: no second alert for the same link and window
    assert len(events.wait_for(is_alert, 2, timeout=5)) == 1

    # The owner's view through nginx: totals and top files by their current path.
    api.post(f"/users/{alice.name}/move", json={"from": "private.txt", "to": "docs/private.txt"}, headers=alice.auth)
    response = api.get(f"/users/{alice.name}/stats", params={"since": since.isoformat()}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "downloads": 19,
        "bytes": 1090,
        "top_files": [
            {"file_id": shared, "path": "docs/shared.pdf", "downloads": 10, "bytes": 1000},
            {"file_id": private, "path": "docs/private.txt", "downloads": 9, "bytes": 90},
        ],
    }

    # The platform windows keep their meaning: every download once, the alert not among them.
    expected = plus(baseline, ground_truth(produced))
    seen = wait_for(api, alice, since, expected)
    assert {k: seen.get(k) for k in expected} == expected


def test_a_download_while_analytics_starts_is_counted_once_the_query_runs(
    stack: StackInfo, api: httpx.Client, alice: User
) -> None:
    """The file API does not wait for Spark: while the query comes up /health is 200 "degraded"
    with analytics "starting", downloads work, and their events wait in the outbox and the topic."""
    body = b"e" * 1234
    file_id = put(api, alice, "early.bin", body).json()["id"]
    stack.launcher("stop", "analytics_ms")
    stack.launcher("start", "analytics_ms")  # returns once the service answers, the query ~20 s before running

    def health() -> dict[str, Any]:
        response = api.get("/health")
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    assert (health()["status"], health()["checks"]["analytics_ms"]) == ("degraded", "starting")
    assert api.get(f"/users/{alice.name}/files/early.bin", headers=alice.auth).content == body
    assert health()["status"] == "degraded", "the query ran before the download: this proves nothing"

    Faults(stack).wait_healthy()
    stats = wait_for_stats(stack, {"file_id": file_id, "link_ids": []}, 1, timeout=60)
    assert (stats["downloads"], stats["bytes"]) == (1, len(body))
