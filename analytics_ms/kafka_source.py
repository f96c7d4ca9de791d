"""A PySpark Python Data Source reading a Kafka topic through confluent-kafka.

Spark's own Kafka connector jar is not obtainable here, so this stands in for ``format("kafka")``:
the same option names (``kafka.bootstrap.servers``, ``subscribe``, ``startingOffsets``) and the
same columns, so one set of transforms serves both. The stream's offset is ``{partition: next
offset}`` as JSON; Spark keeps it in the query's checkpoint, so a restarted query resumes exactly.

Some brokers (Tansu) under-report the high watermark: ListOffsets "latest" answers the base offset
of the last record batch, not the end. The true end is found by reading forward from the reported
watermark until the broker signals end of partition (one fetch per partition).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException, Message, TopicPartition
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadLimit, SupportsTriggerAvailableNow
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

SOURCE_NAME = "liftbit_kafka"

# The columns of Spark's built-in kafka source (without timestampType, which nothing here reads).
KAFKA_RECORD_SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
    ]
)
# What Spark expects read() to yield for that schema (see pyspark's records_to_arrow_batches).
ARROW_RECORD_SCHEMA = pa.schema(
    [
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary()),
        pa.field("topic", pa.string()),
        pa.field("partition", pa.int32()),
        pa.field("offset", pa.int64()),
        pa.field("timestamp", pa.timestamp("us", tz="UTC")),
    ]
)

# Rows per Arrow batch handed to Spark: large enough to amortise the conversion, small enough
# that a task's memory stays flat however long its offset range is.
ARROW_BATCH_RECORDS = 10_000
# How long planning may read past the broker's reported watermark looking for the true end.
END_PROBE_SECONDS = 5.0

Offsets = dict[str, int]  # partition number (as a JSON key) → offset of the next record to read


class KafkaSourceError(RuntimeError):
    """The broker did not give the records a planned micro-batch needs."""


@dataclass(frozen=True)
class KafkaSourceOptions:
    bootstrap_servers: str
    topic: str
    starting_offsets: str  # "earliest" or "latest"
    timeout_seconds: float  # how long the broker may take to answer or to deliver planned records

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> KafkaSourceOptions:
        def required(name: str) -> str:
            if not options.get(name):
                raise ValueError(f"{SOURCE_NAME}: option {name!r} is required")
            return options[name]

        starting_offsets = options.get("startingOffsets", "latest")
        if starting_offsets not in ("earliest", "latest"):
            raise ValueError(f"{SOURCE_NAME}: startingOffsets must be earliest or latest, not {starting_offsets!r}")
        return cls(
            bootstrap_servers=required("kafka.bootstrap.servers"),
            topic=required("subscribe"),
            starting_offsets=starting_offsets,
            timeout_seconds=float(options.get("kafkaTimeoutSeconds", "30")),
        )

    def consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                # Partitions are assigned, never subscribed, and no offsets are committed to the broker:
                # the group id is required by the client but unused.
                "group.id": "liftbit-analytics-source",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                # A planned offset that no longer exists is data loss: fail rather than skip.
                "auto.offset.reset": "error",
                "enable.partition.eof": True,
                # Tansu answers a fetch with what it read from S3 within this wait: 20 ms returned no
                # batch at all under load (a 30 s stall); 100 ms costs an idle end probe 0.1 s.
                "fetch.wait.max.ms": 100,
                "socket.timeout.ms": int(self.timeout_seconds * 1000),
            }
        )


@dataclass(frozen=True)
class PartitionRange(InputPartition):
    """Offsets [start, end) of one Kafka partition: one Spark task."""

    partition: int
    start: int
    end: int


class TopicEnds:
    """Where each partition of the topic begins and truly ends (past the broker's under-reported
    high watermark). Used for offset planning and, by the service, to measure consumer lag."""

    def __init__(self, options: KafkaSourceOptions) -> None:
        self.options = options
        self._consumer: Consumer | None = None

    def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = self.options.consumer()
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def watermarks(self) -> dict[int, tuple[int, int]]:
        """(low, reported high) for each partition the broker has for the topic now."""
        consumer = self.consumer()
        timeout = self.options.timeout_seconds
        metadata = consumer.list_topics(self.options.topic, timeout=timeout).topics[self.options.topic]
        if metadata.error is not None:
            if metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return {}  # not created yet: nothing to read, partitions are picked up when they appear
            raise KafkaException(metadata.error)
        return {
            partition: consumer.get_watermark_offsets(TopicPartition(self.options.topic, partition), timeout=timeout)
            for partition in sorted(metadata.partitions)
        }

    def true_end_offsets(self) -> Offsets:
        reported = {partition: high for partition, (_, high) in self.watermarks().items()}
        if not reported:
            return {}
        consumer = self.consumer()
        consumer.assign([TopicPartition(self.options.topic, p, offset) for p, offset in reported.items()])
        try:
            ends = dict(reported)
            pending = set(reported)
            deadline = time.monotonic() + END_PROBE_SECONDS
            # Read on from the reported watermark until each partition signals its end; the offset
            # after the last record seen is the true end. A partition written faster than it can be
            # read here may never signal it: then what was read by the deadline is the end this
            # time (every offset below it exists), and the next plan reads on from there.
            while pending and time.monotonic() < deadline:
                for message in consumer.consume(num_messages=1000, timeout=0.01):
                    error = message.error()
                    if error is None:
                        partition, offset = _position(message)
                        ends[partition] = max(ends[partition], offset + 1)
                    elif error.code() == KafkaError._PARTITION_EOF:
                        partition, offset = _position(message)
                        ends[partition] = max(ends[partition], offset)
                        pending.discard(partition)
                    else:
                        raise KafkaException(error)
        finally:
            consumer.unassign()
        return {str(partition): end for partition, end in ends.items()}


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    def __init__(self, options: KafkaSourceOptions) -> None:
        self.options = options
        # Only the driver-side reader (offset planning) uses this; read() runs in fresh copies.
        self._ends = TopicEnds(options)
        self._available_now_end: Offsets | None = None

    # -- planning (driver) -------------------------------------------------------------------

    def initialOffset(self) -> Offsets:
        if self.options.starting_offsets == "latest":
            return self._ends.true_end_offsets()
        return {str(partition): low for partition, (low, _) in self._ends.watermarks().items()}

    def latestOffset(self, start: Offsets, limit: ReadLimit) -> Offsets:
        if not isinstance(limit, ReadAllAvailable):
            raise ValueError(f"{SOURCE_NAME} reads everything available; read limit {limit!r} is not supported")
        end = self._available_now_end if self._available_now_end is not None else self._ends.true_end_offsets()
        behind = {p: (start[p], offset) for p, offset in end.items() if offset < start.get(p, 0)}
        if behind:
            # Records before `start` were counted, and whatever the broker now holds below it would
            # be skipped silently: stop, as Spark's kafka source does (failOnDataLoss).
            raise KafkaSourceError(
                f"topic {self.options.topic!r}: partition end offsets went back (partition: (checkpoint, "
                f"broker)) {behind}; the topic was recreated or the broker lost its data. Delete the "
                "query's checkpoint to start over from the broker's records."
            )
        # A partition missing from `start` appeared since: it is read from its beginning.
        return end

    def prepareForTriggerAvailableNow(self) -> None:
        self._available_now_end = self._ends.true_end_offsets()

    def partitions(self, start: Offsets, end: Offsets) -> Sequence[PartitionRange]:
        ranges = (
            PartitionRange(int(partition), start.get(partition, 0), stop) for partition, stop in sorted(end.items())
        )
        return [r for r in ranges if r.end > r.start]

    def stop(self) -> None:
        self._ends.close()

    # -- reading (executors) ----------------------------------------------------------------

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, PartitionRange)
        consumer = self.options.consumer()
        consumer.assign([TopicPartition(self.options.topic, partition.partition, partition.start)])
        try:
            yield from self._read_range(consumer, partition)
        finally:
            consumer.close()

    def _read_range(self, consumer: Consumer, wanted: PartitionRange) -> Iterator[pa.RecordBatch]:
        batch: list[Message] = []
        next_offset = wanted.start
        last_progress = time.monotonic()
        while next_offset < wanted.end:
            # consume() returns once it has this many messages (or times out): never ask past the end.
            messages = consumer.consume(num_messages=min(ARROW_BATCH_RECORDS, wanted.end - next_offset), timeout=0.1)
            for message in messages:
                error = message.error()
                if error is None:
                    _, offset = _position(message)
                    if offset < wanted.end:
                        batch.append(message)
                    next_offset = offset + 1
                elif error.code() == KafkaError._PARTITION_EOF:
                    # End of what the broker has. At or past the planned end means the offsets left
                    # were not records (transaction markers, compacted away); before it, keep polling.
                    _, offset = _position(message)
                    next_offset = max(next_offset, min(offset, wanted.end))
                else:
                    raise KafkaException(error)
                if next_offset >= wanted.end:
                    break
            if messages:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > self.options.timeout_seconds:
                raise KafkaSourceError(
                    f"partition {wanted.partition}: offsets {next_offset}..{wanted.end - 1} were planned "
                    f"but not delivered within {self.options.timeout_seconds:g} s"
                )
            if len(batch) >= ARROW_BATCH_RECORDS:
                yield self._to_arrow(batch)
                batch = []
        if batch:
            yield self._to_arrow(batch)

    def _to_arrow(self, messages: list[Message]) -> pa.RecordBatch:
        timestamps = []
        for message in messages:
            kind, millis = message.timestamp()
            timestamps.append(None if kind == TIMESTAMP_NOT_AVAILABLE else millis * 1000)
        return pa.RecordBatch.from_arrays(
            [
                pa.array([m.key() for m in messages], pa.binary()),
                pa.array([m.value() for m in messages], pa.binary()),
                pa.array([self.options.topic] * len(messages), pa.string()),
                pa.array([m.partition() for m in messages], pa.int32()),
                pa.array([m.offset() for m in messages], pa.int64()),
                pa.array(timestamps, pa.timestamp("us", tz="UTC")),
            ],
            schema=ARROW_RECORD_SCHEMA,
        )


def _position(message: Message) -> tuple[int, int]:
    """(partition, offset) of a record or an end-of-partition event, which always carry both."""
    partition, offset = message.partition(), message.offset()
    assert partition is not None
    assert offset is not None
    return partition, offset


class KafkaDataSource(DataSource):
    """``spark.readStream.format("liftbit_kafka")`` once registered with ``spark.dataSource.register``."""

    @classmethod
    def name(cls) -> str:
        return SOURCE_NAME

    def schema(self) -> StructType:
        return KAFKA_RECORD_SCHEMA

    def streamReader(self, schema: StructType) -> KafkaStreamReader:
        return KafkaStreamReader(KafkaSourceOptions.parse(self.options))
