"""The Python Data Source over Tansu: every record of every partition, exactly once, across restarts."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.datasource import ReadAllAvailable
from pyspark.sql.streaming.query import StreamingQuery

from analytics_ms.job import read_kafka_records
from analytics_ms.kafka_source import KafkaSourceError, KafkaSourceOptions, KafkaStreamReader
from analytics_ms.settings import AnalyticsSettings

PARTITIONS = 3
Record = tuple[int, int, bytes]  # partition, offset, value


class RecordCollector:
    """foreachBatch sink keeping each batch's records by batch id, so a replayed batch replaces
    itself (as the real, idempotent sink does) instead of showing up twice."""

    def __init__(self) -> None:
        self.batches: dict[int, list[Record]] = {}

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        rows = batch.select("partition", "offset", "value").toArrow().to_pylist()
        self.batches[batch_id] = [(r["partition"], r["offset"], r["value"]) for r in rows]


def sink_contents(*runs: RecordCollector) -> list[Record]:
    """What an idempotent sink holds after these runs: a batch run again replaces itself."""
    batches: dict[int, list[Record]] = {}
    for run in runs:
        batches.update(run.batches)
    return [record for batch in batches.values() for record in batch]


def produce_batched(producer: Producer, topic: str, count: int, tag: str) -> dict[tuple[int, int], bytes]:
    """``count`` records spread over the partitions in multi-record batches; returns what was
    written where, as the broker acknowledged it."""
    written: dict[tuple[int, int], bytes] = {}

    def acknowledged(error: KafkaError | None, message: Message) -> None:
        assert error is None, error
        partition, offset, value = message.partition(), message.offset(), message.value()
        assert partition is not None
        assert offset is not None
        assert value is not None
        written[(partition, offset)] = value

    for i in range(count):
        producer.produce(topic, value=f"{tag}-{i}".encode(), partition=i % PARTITIONS, on_delivery=acknowledged)
    assert producer.flush(10) == 0
    assert len(written) == count
    return written


def start_stream(spark: SparkSession, settings: AnalyticsSettings, collector: RecordCollector) -> StreamingQuery:
    return (
        read_kafka_records(spark, settings)
        .writeStream.foreachBatch(collector)
        .option("checkpointLocation", str(settings.analytics_checkpoint_dir))
        .trigger(processingTime="500 milliseconds")
        .start()
    )


def wait_until(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def as_records(written: dict[tuple[int, int], bytes]) -> list[Record]:
    return sorted((partition, offset, value) for (partition, offset), value in written.items())


def test_latest_offset_is_the_true_end_although_the_broker_under_reports_it(
    producer: Producer, topic: str, analytics_endpoints: dict[str, str]
) -> None:
    produce_batched(producer, topic, 900, "batched")
    bootstrap = analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"]
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe"})
    reported = [probe.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in range(PARTITIONS)]
    probe.close()
    # The case under test: the broker's high watermark stops short of the 300 records per partition.
    assert all(high < 300 for high in reported), reported

    options = KafkaSourceOptions(bootstrap, topic, starting_offsets="earliest", timeout_seconds=10)
    reader = KafkaStreamReader(options)
    try:
        assert reader.initialOffset() == {"0": 0, "1": 0, "2": 0}
        assert reader.latestOffset({"0": 0, "1": 0, "2": 0}, ReadAllAvailable()) == {"0": 300, "1": 300, "2": 300}
    finally:
        reader.stop()


def test_offsets_behind_the_checkpoint_stop_the_stream(topic: str, analytics_endpoints: dict[str, str]) -> None:
    """The broker holds less than the checkpoint says was read (it lost its data, or the topic was
    recreated): reading on would skip records silently, so the source refuses."""
    options = KafkaSourceOptions(analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"], topic, "earliest", timeout_seconds=10)
    reader = KafkaStreamReader(options)
    try:
        with pytest.raises(KafkaSourceError, match=r"went back .*'1': \(40, 0\)"):
            reader.latestOffset({"0": 0, "1": 40, "2": 0}, ReadAllAvailable())
    finally:
        reader.stop()


def test_stream_reads_every_record_of_every_partition_without_waiting_for_more(
    spark: SparkSession, producer: Producer, topic: str, make_settings: Callable[..., AnalyticsSettings]
) -> None:
    written = produce_batched(producer, topic, 900, "first")
    collector = RecordCollector()
    query = start_stream(spark, make_settings(kafka_topic=topic), collector)
    try:
        # Nothing more is produced: the last batch of each partition must come through anyway.
        wait_until(lambda: len(sink_contents(collector)) >= len(written))
        time.sleep(1.5)  # a few more triggers, in which nothing may be read twice
    finally:
        query.stop()

    assert sorted(sink_contents(collector)) == as_records(written)
    assert len(sink_contents(collector)) == 900
    assert {partition for partition, _, _ in sink_contents(collector)} == {0, 1, 2}


def test_restart_on_the_same_checkpoint_resumes_with_no_gap_and_no_duplicate(
    spark: SparkSession, producer: Producer, topic: str, make_settings: Callable[..., AnalyticsSettings]
) -> None:
    settings = make_settings(kafka_topic=topic)
    before = produce_batched(producer, topic, 300, "before")
    first = RecordCollector()
    query = start_stream(spark, settings, first)
    try:
        wait_until(lambda: len(sink_contents(first)) >= len(before))
    finally:
        query.stop()

    after = produce_batched(producer, topic, 450, "after")  # produced while the query is down
    second = RecordCollector()
    query = start_stream(spark, settings, second)
    try:
        wait_until(lambda: len(sink_contents(first, second)) >= len(before) + len(after))
        time.sleep(1.5)
    finally:
        query.stop()

    # A batch stopped before Spark committed it is run again, with the same id and offsets (the
    # sink overwrites it); anything else the second run reads must be new.
    for batch_id in first.batches.keys() & second.batches.keys():
        assert sorted(second.batches[batch_id]) == sorted(first.batches[batch_id])
    assert sorted(sink_contents(first, second)) == as_records(before | after)
    assert len(sink_contents(first, second)) == 750


def test_starting_offsets_latest_skips_what_was_there_before(
    spark: SparkSession, producer: Producer, topic: str, make_settings: Callable[..., AnalyticsSettings]
) -> None:
    produce_batched(producer, topic, 60, "old")
    collector = RecordCollector()
    query = start_stream(spark, make_settings(kafka_topic=topic, analytics_starting_offsets="latest"), collector)
    try:
        wait_until(lambda: query.lastProgress is not None)  # the start offsets are fixed by now
        new = produce_batched(producer, topic, 60, "new")
        wait_until(lambda: len(sink_contents(collector)) >= len(new))
        time.sleep(1.5)
    finally:
        query.stop()

    assert sorted(sink_contents(collector)) == as_records(new)
