"""analytics_ms on a Spark standalone cluster (a master and two workers from pyspark's own
distribution, SPARK_MASTER_URL=spark://…): its download windows are exact, and stay exact when a
worker and its executor are killed mid-stream, the query carrying on with the one that is left."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from liftbit_common.events import FileEvent
from scripts.stack.info import StackInfo
from scripts.stack.spark_cluster import SparkCluster, spark_cluster
from scripts.stack.throwaway import throwaway_stack
from tests.support.analytics import (
    file_ground_truth,
    ground_truth,
    produce,
    stored_file_totals,
    synthetic,
    wait_for,
)
from tests.support.events import EventLog
from tests.support.http import put
from tests.support.stack import TEST_STACK_SETTINGS
from tests.support.users import User, register

KILLED, SURVIVOR = 1, 2


@pytest.fixture(scope="module")
def cluster() -> Iterator[SparkCluster]:
    with spark_cluster(workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def clustered(cluster: SparkCluster) -> Iterator[StackInfo]:
    # Stopped before the cluster (fixtures unwind in reverse): the driver leaves first.
    with throwaway_stack(TEST_STACK_SETTINGS | {"SPARK_MASTER_URL": cluster.master_url}) as info:
        yield info


def the_job(cluster: SparkCluster) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [app for app in cluster.state()["activeapps"] if app["name"] == "liftbit-analytics"]
    [job] = jobs
    return job


def until(condition: Callable[[], bool], timeout: float, every: float = 0.5) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout``."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < timeout, "gave up waiting"
        time.sleep(every)
    return time.monotonic() - began


TASK_LINE = re.compile(r"(Running|Finished) task \S+ in stage \S+ \(TID (\d+)\)")


def tasks_in_flight(cluster: SparkCluster, worker: int) -> set[str]:
    """Tasks the executors of ``worker`` started and did not finish, by their executor logs."""
    started: set[str] = set()
    finished: set[str] = set()
    for log in cluster.work_dir(worker).glob("*/*/stderr"):
        for kind, task in TASK_LINE.findall(log.read_text(errors="replace")):
            (started if kind == "Running" else finished).add(task)
    return started - finished


def download(api: httpx.Client, events: EventLog, user: User, times: int, seen: int) -> list[FileEvent]:
    """``times`` downloads through the API; every download event of it so far, as published."""
    for _ in range(times):
        assert api.get(f"/users/{user.name}/files/real.bin", headers=user.auth).status_code == 200
    found = events.wait_for(
        lambda e: e["owner"] == user.name and (e["type"], e["path"]) == ("download", "real.bin"), seen + times
    )
    assert len(found) == seen + times
    return [FileEvent.model_validate({k: v for k, v in e.items() if k != "_key"}) for e in found]


def test_exact_windows_on_a_cluster_and_after_a_worker_is_killed(cluster: SparkCluster, clustered: StackInfo) -> None:
    events = EventLog(clustered.env["KAFKA_BOOTSTRAP_SERVERS"], clustered.env["KAFKA_TOPIC"])
    producer = Producer({"bootstrap.servers": clustered.env["KAFKA_BOOTSTRAP_SERVERS"], "enable.idempotence": False})
    now = datetime.now(UTC)
    since = now - timedelta(minutes=15)
    # The job runs on the cluster, not in its own process: an executor (one core) on each worker.
    until(lambda: the_job(cluster)["cores"] == 2, timeout=60)
    assert [w["coresused"] for w in cluster.state()["workers"]] == [1, 1]

    with httpx.Client(base_url=clustered.url, timeout=60) as api:
        alice = register(api)
        put(api, alice, "real.bin", b"x" * 3000)
        served = download(api, events, alice, 3, seen=0)
        first = synthetic(alice.name, now, [5, 3 * 1024**3], "cluster-file")  # 64-bit sums, three windows
        produce(producer, clustered.env["KAFKA_TOPIC"], first)
        # This stack is the test's alone: every window it serves is known.
        expected = ground_truth([*served, *first])
        produced_at = time.monotonic()
        assert wait_for(api, alice, since, expected) == expected
        first_exact = time.monotonic() - produced_at

        # A worker dies with its executor (SIGKILL of its process group) in the middle of a task.
        second = synthetic(alice.name, now, [7], "cluster-file")
        produce(producer, clustered.env["KAFKA_TOPIC"], second)
        until(lambda: bool(tasks_in_flight(cluster, KILLED)), timeout=60, every=0.05)
        killed_at = time.monotonic()
        cluster.kill_worker(KILLED)
        lost = tasks_in_flight(cluster, KILLED)
        assert lost, "the worker was killed between tasks"
        served = download(api, events, alice, 2, seen=len(served))
        expected = ground_truth([*served, *first, *second])
        assert wait_for(api, alice, since, expected, timeout=300) == expected
        recovered = time.monotonic() - killed_at

    # No loss, no double count in the finest rows either (per window, owner and file).
    assert stored_file_totals(clustered.env["DATABASE_URL"]) == file_ground_truth([*served, *first, *second])
    # The master saw the worker go; the job carries on with the executor of the other one.
    assert (cluster.worker_state(KILLED), cluster.worker_state(SURVIVOR)) == ("DEAD", "ALIVE")
    assert the_job(cluster)["cores"] == 1
    print(
        f"windows exact {first_exact:.1f} s after the first events were produced; tasks {sorted(lost)} killed"
        f" in flight; windows exact again {recovered:.1f} s after the kill"
    )
