"""Analytics benchmark: how fast the Spark job aggregates download events, against plain Python.

    python bench/analytics.py throughput [--events 1000000]
    python bench/analytics.py latency --start-job [--events 200]

Endpoints come from options, the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL) or the
stack.env that `make up` wrote under LIFTBIT_HOME (default .liftbit). Runs use a scratch topic and
a scratch database on those servers, dropped afterwards, except `latency` without --start-job,
which measures the running stack's job on its own topic and table.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from rich.console import Console
from rich.table import Table

from analytics_ms.app import MIGRATIONS, VERSION_TABLE
from analytics_ms.job import AnalyticsJob, build_spark_session, start_window_query
from analytics_ms.settings import AnalyticsSettings
from analytics_ms.sink import WindowSink
from liftbit_common.db import upgrade_database
from liftbit_common.events import TOPIC, EventType, FileEvent, utc_now_ms
from liftbit_common.settings import libpq_url

PARTITIONS = 3
WINDOW_SECONDS = 300
Totals = dict[datetime, tuple[int, int]]  # window start → (downloads, bytes)

app = typer.Typer(add_completion=False, help=__doc__)
console = Console()


def stack_endpoint(name: str) -> str:
    if name in os.environ:
        return os.environ[name]
    stack_env = Path(os.environ.get("LIFTBIT_HOME", ".liftbit")) / "stack.env"
    if stack_env.exists():
        for line in stack_env.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value
    raise typer.BadParameter(f"{name}: give the option, set it in the environment, or run `make up` first")


BootstrapOption = Annotated[str | None, typer.Option(help="Kafka bootstrap servers [KAFKA_BOOTSTRAP_SERVERS]")]
DatabaseOption = Annotated[str | None, typer.Option(help="postgresql:// URL [DATABASE_URL]")]


# -- infrastructure ------------------------------------------------------------------------------


def create_topic(bootstrap_servers: str) -> str:
    name = f"bench-analytics-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    for future in admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)]).values():
        future.result(10)
    return name


@contextlib.contextmanager
def scratch_database(database_url: str) -> Iterator[str]:
    """A new database on the same server, with analytics_ms's tables; dropped on exit."""
    name = f"bench_analytics_{uuid.uuid4().hex[:8]}"
    server, _, _ = libpq_url(database_url).rpartition("/")
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    try:
        upgrade_database(MIGRATIONS, url, VERSION_TABLE)
        yield url
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def bench_settings(
    bootstrap_servers: str, topic: str, database_url: str, work: Path, trigger: str
) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        kafka_topic=topic,
        analytics_checkpoint_dir=work / "checkpoint",
        analytics_trigger=trigger,
        internal_token="bench-unused",
    )


def stored_totals(database_url: str) -> Totals:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT window_start, downloads, bytes FROM download_windows").fetchall()
    return {start: (downloads, size) for start, downloads, size in rows}


# -- throughput ----------------------------------------------------------------------------------


def produce_synthetic(bootstrap_servers: str, topic: str, count: int, seed: int) -> float:
    """``count`` messages over one hour of event time: 90% downloads, the rest uploads and deletes,
    1% of them redeliveries of an earlier message. Returns the seconds producing took."""
    rng = random.Random(seed)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": False,  # Tansu refuses the idempotent producer
            "linger.ms": 50,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 1_000_000,
        }
    )
    kinds = [EventType.DOWNLOAD] * 18 + [EventType.UPLOAD, EventType.DELETE]
    start = datetime(2026, 1, 15, 12, tzinfo=UTC)
    recent: list[tuple[bytes, bytes]] = []
    began = time.perf_counter()
    for i in range(count):
        if recent and rng.random() < 0.01:
            key, value = rng.choice(recent)
        else:
            event = FileEvent(
                type=rng.choice(kinds),
                owner=f"user{rng.randrange(1000)}",
                filename="data.bin",
                size=rng.randrange(100 * 1024**2),
                actor="bench",
                occurred_at=start + timedelta(seconds=3600 * i / count + rng.random()),
            )
            key, value = event.key, event.to_json_bytes()
            recent = [*recent[-99:], (key, value)]
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(60) == 0
    return time.perf_counter() - began


def aggregate_in_python(bootstrap_servers: str, topic: str, count: int) -> tuple[Totals, float]:
    """The same aggregation by hand: read every message, keep downloads, drop redelivered event
    ids, 5-minute windows, count and sum. Returns the totals and the seconds it took."""
    began = time.perf_counter()
    consumer = Consumer(
        {"bootstrap.servers": bootstrap_servers, "group.id": "bench-python", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, 0) for partition in range(PARTITIONS)])
    seen: set[str] = set()
    totals: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    read = 0
    while read < count:
        for message in consumer.consume(num_messages=10_000, timeout=1.0):
            if message.error() is not None:
                raise RuntimeError(message.error())
            read += 1
            event = json.loads(message.value())  # type: ignore[arg-type]
            if event["type"] != "download" or event["event_id"] in seen:
                continue
            seen.add(event["event_id"])
            occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
            window = totals[int(occurred // WINDOW_SECONDS * WINDOW_SECONDS)]
            window[0] += 1
            window[1] += event["size"]
    consumer.close()
    elapsed = time.perf_counter() - began
    return {datetime.fromtimestamp(start, UTC): (n, size) for start, (n, size) in totals.items()}, elapsed


@app.command()
def throughput(
    events: int = 1_000_000,
    bootstrap_servers: BootstrapOption = None,
    database_url: DatabaseOption = None,
    seed: int = 7,
) -> None:
    """Events per second the Spark job sustains on its master (local[2] by default), against a
    plain confluent-kafka consumer doing the same aggregation in Python, on the same topic."""
    bootstrap = bootstrap_servers or stack_endpoint("KAFKA_BOOTSTRAP_SERVERS")
    database = database_url or stack_endpoint("DATABASE_URL")
    topic = create_topic(bootstrap)
    console.print(f"producing {events:,} events to {topic} …")
    produce_seconds = produce_synthetic(bootstrap, topic, events, seed)

    with scratch_database(database) as scratch, tempfile.TemporaryDirectory(prefix="bench-analytics-") as work:
        settings = bench_settings(bootstrap, topic, scratch, Path(work), trigger="5 seconds")
        began = time.perf_counter()
        spark = build_spark_session(settings)
        startup_seconds = time.perf_counter() - began
        try:
            began = time.perf_counter()
            query = start_window_query(spark, settings, WindowSink(scratch), available_now=True)
            query.awaitTermination()
            spark_seconds = time.perf_counter() - began
            spark_rows = sum(p["numInputRows"] for p in query.recentProgress)
            batch_durations = [p["durationMs"] for p in query.recentProgress]
        finally:
            spark.stop()
        spark_totals = stored_totals(scratch)

    python_totals, python_seconds = aggregate_in_python(bootstrap, topic, events)
    agree = spark_totals == python_totals

    table = Table(title=f"Download analytics over {events:,} events ({len(python_totals)} windows)")
    for column in ("pipeline", "events read", "seconds", "events/s"):
        table.add_column(column, justify="right" if column != "pipeline" else "left")
    table.add_row(
        "produce (confluent-kafka, batched)",
        f"{events:,}",
        f"{produce_seconds:.1f}",
        f"{events / produce_seconds:,.0f}",
    )
    table.add_row(
        f"Spark job ({settings.spark_master_url}, availableNow)",
        f"{spark_rows:,}",
        f"{spark_seconds:.1f}",
        f"{events / spark_seconds:,.0f}",
    )
    table.add_row(
        "Python consumer (same aggregation)", f"{events:,}", f"{python_seconds:.1f}", f"{events / python_seconds:,.0f}"
    )
    console.print(table)
    console.print(f"Spark session start (not in the figure): {startup_seconds:.1f} s")
    console.print(f"Spark micro-batches, milliseconds per phase: {batch_durations}")
    console.print(f"Spark / Python throughput ratio: {python_seconds / spark_seconds:.2f}")
    console.print(f"Both computed the same window totals: {agree}")
    if not agree:
        raise typer.Exit(1)


# -- latency -------------------------------------------------------------------------------------


def measure_produce_to_row_delay(
    bootstrap_servers: str, topic: str, database_url: str, count: int, interval: float = 0.1
) -> list[float]:
    """Seconds from producing each of ``count`` download events (one every ``interval`` s,
    occurring now) until download_windows counts it. Any other downloads counted meanwhile make
    the figures optimistic: use a quiet stack or a scratch job."""

    def counted() -> int:
        with psycopg.connect(database_url) as connection:
            row = connection.execute("SELECT COALESCE(sum(downloads), 0) FROM download_windows").fetchone()
        return int(row[0]) if row else 0

    baseline = counted()
    sent: list[float] = []
    seen: list[float] = []  # time at which the n-th event (1-based) was first counted
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            while len(seen) < count and not done.is_set():
                row = connection.execute("SELECT COALESCE(sum(downloads), 0) FROM download_windows").fetchone()
                now = time.monotonic()
                total = (int(row[0]) if row else 0) - baseline
                seen.extend([now] * (min(total, count) - len(seen)))
                time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": False, "linger.ms": 1})
    for _ in range(count):
        event = FileEvent(type=EventType.DOWNLOAD, owner="bench", filename="latency.bin", size=1, actor="bench",
                          occurred_at=utc_now_ms())  # fmt: skip
        producer.produce(topic, key=event.key, value=event.to_json_bytes())
        producer.flush(5)
        sent.append(time.monotonic())
        time.sleep(interval)
    watcher.join(timeout=120)
    done.set()
    if len(seen) < count:
        raise RuntimeError(f"only {len(seen)} of {count} events were counted within 2 minutes")
    return [seen_at - sent_at for sent_at, seen_at in zip(sent, seen, strict=True)]


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@app.command()
def latency(
    events: int = 200,
    interval: float = 0.1,
    start_job: Annotated[bool, typer.Option(help="Run a scratch job here instead of measuring the stack's")] = False,
    trigger: str = "5 seconds",
    bootstrap_servers: BootstrapOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delay from producing a download event to its window row in Postgres: p50 and p99."""
    bootstrap = bootstrap_servers or stack_endpoint("KAFKA_BOOTSTRAP_SERVERS")
    database = database_url or stack_endpoint("DATABASE_URL")
    if not start_job:
        delays = measure_produce_to_row_delay(bootstrap, TOPIC, database, events, interval)
        measured = "the stack's job"
    else:
        topic = create_topic(bootstrap)
        with scratch_database(database) as scratch, tempfile.TemporaryDirectory(prefix="bench-analytics-") as work:
            job = AnalyticsJob(bench_settings(bootstrap, topic, scratch, Path(work), trigger))
            job.start()
            try:
                while job.status().last_progress is None:  # the first (empty) batch has run
                    time.sleep(0.2)
                delays = measure_produce_to_row_delay(bootstrap, topic, scratch, events, interval)
            finally:
                job.stop()
        measured = f"a scratch job, trigger {trigger}"
    console.print(
        f"produce → row in download_windows, {events} events, {measured}: "
        f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    app()
