"""The foreachBatch sink against real Postgres and the broker: idempotent upserts of the fine rows,
the platform windows recomputed from them, leak alerts stored and published once, the console."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from pyspark.sql import DataFrame, SparkSession

from analytics_ms.sink import ALERT_NAMESPACE, AlertPublisher, DownloadSink
from liftbit_common.events import EventType, FileEvent
from tests.support.analytics import stored_file_totals, stored_totals, utc

GIB = 1024**3
ALERT_ADDRESSES = 5
# (minute of 12:xx, owner, file_id, link_id, client_address, downloads, bytes, path)
Row = tuple[int, str, str, str, str, int, int, str | None]


def count_batch(spark: SparkSession, rows: list[Row]) -> DataFrame:
    """A micro-batch as the download query emits it (update mode: each group's full totals)."""
    return spark.createDataFrame(
        [(utc(12, minute), utc(12, minute + 5), *rest) for minute, *rest in rows],
        "window_start TIMESTAMP, window_end TIMESTAMP, owner STRING, file_id STRING, link_id STRING,"
        " client_address STRING, downloads BIGINT, bytes BIGINT, path STRING",
    )


def link_rows(link_id: str, addresses: int, minute: int = 0) -> list[Row]:
    """One download of file 7 through ``link_id`` from each of ``addresses`` addresses."""
    return [(minute, "alice", "7", link_id, f"198.51.100.{n}", 1, 100, "docs/a.txt") for n in range(addresses)]


def topic_events(bootstrap_servers: str, topic: str) -> list[FileEvent]:
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "sink-test", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages = consumer.consume(num_messages=1000, timeout=3)
        return [FileEvent.from_json_bytes(m.value() or b"") for m in messages if m.error() is None]
    finally:
        consumer.close()


@pytest.fixture
def sink(download_windows_table: str, analytics_endpoints: dict[str, str], topic: str) -> DownloadSink:
    return DownloadSink(
        download_windows_table, AlertPublisher(analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"], topic), ALERT_ADDRESSES
    )


def alerts(database_url: str) -> list[tuple[str, datetime, str, int, int, str, str | None]]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT link_id, window_start, owner, addresses, bytes, file_id, path FROM link_alerts ORDER BY link_id"
        ).fetchall()


def test_replaying_a_batch_does_not_double_count(spark: SparkSession, sink: DownloadSink) -> None:
    batch = count_batch(
        spark,
        [
            (0, "alice", "7", "", "", 2, 200, "a.txt"),
            (0, "alice", "8", "L1", "198.51.100.1", 1, 100, "b.txt"),
            (5, "bob", "9", "", "", 2, 5 * GIB, "c.bin"),
        ],
    )

    sink(batch, 4)
    sink(batch, 4)  # Spark replays the last batch after a crash between sink and commit

    assert stored_totals(sink.database_url) == {utc(12, 0): (3, 300), utc(12, 5): (2, 5 * GIB)}
    assert stored_file_totals(sink.database_url) == {
        (utc(12, 0), "alice", "7"): (2, 200),
        (utc(12, 0), "alice", "8"): (1, 100),
        (utc(12, 5), "bob", "9"): (2, 5 * GIB),
    }


def test_platform_windows_are_summed_over_all_rows_of_a_window_not_only_the_batchs(
    spark: SparkSession, sink: DownloadSink
) -> None:
    sink(count_batch(spark, [(0, "alice", "7", "", "", 3, 300, "a"), (5, "alice", "7", "", "", 2, 20, "a")]), 0)

    # update mode: only the groups that changed, with their full current totals
    sink(count_batch(spark, [(5, "bob", "9", "", "", 4, 45, "b"), (10, "alice", "7", "", "", 1, 7, "a")]), 1)

    assert stored_totals(sink.database_url) == {
        utc(12, 0): (3, 300),
        utc(12, 5): (6, 65),
        utc(12, 10): (1, 7),
    }


def test_a_link_from_more_addresses_than_allowed_raises_one_alert_and_one_event(
    spark: SparkSession, sink: DownloadSink, topic: str
) -> None:
    rows = [*link_rows("L1", ALERT_ADDRESSES + 1), *link_rows("L2", ALERT_ADDRESSES)]
    rows.append((0, "alice", "8", "L1", "198.51.100.1", 7, 5000, "docs/b.txt"))  # L1's most downloaded file
    batch = count_batch(spark, rows)

    sink(batch, 0)
    sink(batch, 0)  # replayed: the alert exists already, nothing is published again
    sink(count_batch(spark, link_rows("L1", ALERT_ADDRESSES + 2)), 1)  # more addresses, same window

    assert alerts(sink.database_url) == [("L1", utc(12, 0), "alice", 6, 5600, "8", "docs/b.txt")]
    published = topic_events(sink.publisher.bootstrap_servers, topic)
    assert len(published) == 1
    alert = published[0]
    assert (alert.type, alert.owner, alert.link_id, alert.file_id, alert.path, alert.filename) == (
        EventType.LINK_ALERT,
        "alice",
        "L1",
        "8",
        "docs/b.txt",
        "b.txt",
    )
    assert (alert.size, alert.actor, alert.client_address) == (5600, "analytics", None)
    # Deterministic: a batch replayed after a crash between publishing and committing publishes
    # the same event id again, which readers drop as a redelivery.
    assert alert.event_id == uuid.uuid5(ALERT_NAMESPACE, "L1@2026-01-15T12:00:00.000Z")


def test_each_batch_prints_the_platform_windows_like_the_console_sink(
    spark: SparkSession, sink: DownloadSink, capsys: pytest.CaptureFixture[str]
) -> None:
    sink(
        count_batch(
            spark,
            [
                (5, "alice", "7", "", "", 10, 5 * GIB, "a"),
                (5, "bob", "9", "L1", "198.51.100.1", 2, GIB, "b"),
                (0, "alice", "7", "", "", 3, 300, "a"),
            ],
        ),
        9,
    )

    assert capsys.readouterr().out.splitlines() == [
        "-------------------------------------------",
        "Batch: 9",
        "-------------------------------------------",
        "+-------------------+-------------------+---------+----------+",
        "|       window_start|         window_end|downloads|     bytes|",
        "+-------------------+-------------------+---------+----------+",
        "|2026-01-15 12:00:00|2026-01-15 12:05:00|        3|       300|",
        "|2026-01-15 12:05:00|2026-01-15 12:10:00|       12|6442450944|",
        "+-------------------+-------------------+---------+----------+",
        "",
    ]


def test_an_empty_batch_prints_an_empty_table(
    spark: SparkSession, sink: DownloadSink, capsys: pytest.CaptureFixture[str]
) -> None:
    sink(count_batch(spark, []), 3)

    assert "Batch: 3" in capsys.readouterr().out
    assert stored_totals(sink.database_url) == {}
