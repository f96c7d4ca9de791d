"""analytics_ms as the launcher runs it: uvicorn, env settings, its own Spark, the internal API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer

from tests.analytics_ms.analytics_testing import event, free_port, ground_truth, produce, utc, wait_for_port

TOKEN = "analytics-service-test-token"


@pytest.fixture
def service(
    analytics_endpoints: dict[str, str], topic: str, download_windows_table: str, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """The running service's URL and its log file."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": download_windows_table,
        "KAFKA_BOOTSTRAP_SERVERS": analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"],
        "KAFKA_TOPIC": topic,
        "ANALYTICS_CHECKPOINT_DIR": str(tmp_path / "checkpoint"),
        "ANALYTICS_TRIGGER": "1 second",
        "INTERNAL_TOKEN": TOKEN,
    }
    log = tmp_path / "analytics_ms.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "analytics_ms.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, process, log, timeout=30)
        yield f"http://127.0.0.1:{port}", log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # Uvicorn re-raises the SIGTERM it handled, once shut down cleanly.
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    assert "Application shutdown complete" in log.read_text()


def test_service_reports_health_and_serves_the_windows_it_computed(
    service: tuple[str, Path], producer: Producer, topic: str
) -> None:
    url, log = service
    client = httpx.Client(base_url=url, headers={"X-Internal-Token": TOKEN}, timeout=10)

    starting = client.get("/health")  # the API is up before Spark is
    assert starting.status_code == 503
    assert starting.json()["checks"]["postgres"] == "ok"
    assert starting.json()["checks"]["streaming_query"] == "starting"

    events = [event(utc(12, 4, 59, 999), 10), event(utc(12, 5), 20), event(utc(12, 7), 30), event(utc(12, 16), 40)]
    produce(producer, topic, events)
    expected = [
        {"window_start": "2026-01-15T12:00:00Z", "window_end": "2026-01-15T12:05:00Z", "downloads": 1, "bytes": 10},
        {"window_start": "2026-01-15T12:05:00Z", "window_end": "2026-01-15T12:10:00Z", "downloads": 2, "bytes": 50},
        {"window_start": "2026-01-15T12:15:00Z", "window_end": "2026-01-15T12:20:00Z", "downloads": 1, "bytes": 40},
    ]
    assert {(w["downloads"], w["bytes"]) for w in expected} == set(ground_truth(events).values())

    deadline = time.monotonic() + 180  # Spark starts in ~20 s, much slower on a busy machine
    while (windows := client.get("/windows").json()) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert windows == expected
    assert client.get("/health").status_code == 200

    # Windows inside [since, until]: whole windows only.
    def windows_within(**bounds: str) -> list[dict[str, object]]:
        answer = client.get("/windows", params=bounds)
        assert answer.status_code == 200, answer.text
        listed: list[dict[str, object]] = answer.json()
        return listed

    assert windows_within(since="2026-01-15T12:05:00+00:00", until="2026-01-15T12:10:00Z") == [expected[1]]
    assert windows_within(since="2026-01-15T12:00:00.001Z") == expected[1:]
    assert windows_within(until="2026-01-15T12:19:59.999Z") == expected[:2]
    assert windows_within(since="2026-01-15T12:06:00Z", until="2026-01-15T12:14:00Z") == []

    reversed_range = client.get("/windows", params={"since": "2026-01-15T13:00:00Z", "until": "2026-01-15T12:00:00Z"})
    assert reversed_range.status_code == 422
    assert reversed_range.json()["error"]["code"] == "invalid_input"
    assert client.get("/windows", params={"since": "2026-01-15T12:00:00"}).status_code == 422  # no offset
    assert httpx.get(f"{url}/windows").status_code == 401  # no internal token

    # The window table reaches the service log, as Spark's console sink would print it.
    assert "|2026-01-15 12:05:00|2026-01-15 12:10:00|        2|   50|" in log.read_text()
