"""The streaming query: Kafka records → download counts → Postgres (and the platform windows on the console)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prometheus_client import Gauge
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from analytics_ms.kafka_source import SOURCE_NAME, KafkaDataSource, KafkaSourceOptions, Offsets, TopicEnds
from analytics_ms.settings import AnalyticsSettings
from analytics_ms.sink import AlertPublisher, DownloadSink
from analytics_ms.transforms import download_counts, parse_events

QUERY_NAME = "download_counts"
CONSUMER_LAG = Gauge("liftbit_analytics_consumer_lag", "Records on the topic the query has not processed yet")
STOP_GRACE_SECONDS = 15

BatchSink = Callable[[DataFrame, int], None]


def build_spark_session(settings: AnalyticsSettings) -> SparkSession:
    # Python workers must run this interpreter (the venv's), or they cannot import pyarrow or us.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(settings.spark_master_url)
        .appName("liftbit-analytics")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # progress bars would garble the service log
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(settings.analytics_shuffle_partitions))
        .config("spark.driver.memory", settings.spark_driver_memory)  # read when the JVM starts, below
    )
    if settings.spark_master_url.startswith("local"):
        # Everything runs in this process: stay on loopback rather than the host's first interface.
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
    else:
        # Executors are JVMs of the cluster's workers: they connect back to the driver at this
        # address. Their Python workers (the data source's reader) run PYSPARK_PYTHON, this venv's
        # python, which imports this checkout wherever they run (the project is installed editable).
        builder = (
            builder.config("spark.driver.host", settings.spark_driver_host)
            .config("spark.executor.memory", settings.spark_executor_memory)
            .config("spark.cores.max", str(settings.spark_cores_max))
        )
    if settings.analytics_source == "kafka":
        builder = builder.config("spark.jars.packages", settings.analytics_kafka_package)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def read_kafka_records(spark: SparkSession, settings: AnalyticsSettings) -> DataFrame:
    """The topic as Spark's kafka source shows it, from whichever source the settings name."""
    if settings.analytics_source == "python":
        spark.dataSource.register(KafkaDataSource)
    return (
        spark.readStream.format(SOURCE_NAME if settings.analytics_source == "python" else "kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", settings.kafka_topic)
        .option("startingOffsets", settings.analytics_starting_offsets)
        .load()
    )


def checkpoint_location(settings: AnalyticsSettings) -> Path:
    """The query's checkpoint, in a folder named after the query: the seed's query (platform
    windows only) kept a different state in the folder itself, which this query cannot resume
    from; after the upgrade it starts afresh from ANALYTICS_STARTING_OFFSETS."""
    return settings.analytics_checkpoint_dir / QUERY_NAME


def download_sink(settings: AnalyticsSettings) -> DownloadSink:
    publisher = AlertPublisher(settings.kafka_bootstrap_servers, settings.kafka_topic)
    return DownloadSink(settings.database_url, publisher, settings.link_alert_addresses)


def start_download_query(
    spark: SparkSession, settings: AnalyticsSettings, sink: BatchSink, *, available_now: bool = False
) -> StreamingQuery:
    """Start the query; with ``available_now`` it processes what the topic holds now and stops."""
    events = parse_events(read_kafka_records(spark, settings))
    counts = download_counts(events, window=settings.analytics_window, watermark=settings.analytics_watermark)
    writer = (
        counts.writeStream.queryName(QUERY_NAME)
        .outputMode("update")
        .foreachBatch(sink)
        .option("checkpointLocation", str(checkpoint_location(settings)))
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=settings.analytics_trigger)
    return writer.start()


def processed_offsets(progress: dict[str, Any] | None) -> Offsets | None:
    """Where the last micro-batch ended, from Spark's progress report (either source's format)."""
    sources = (progress or {}).get("sources") or []
    end = sources[0].get("endOffset") if sources else None
    if isinstance(end, str):
        end = json.loads(end)
    if isinstance(end, dict) and end and all(isinstance(v, dict) for v in end.values()):
        end = next(iter(end.values()))  # Spark's kafka source: {topic: {partition: offset}}
    return {str(p): int(o) for p, o in end.items()} if isinstance(end, dict) else None


@dataclass(frozen=True)
class JobStatus:
    state: Literal["starting", "running", "failed", "stopped"]
    error: str | None = None
    last_progress: dict[str, Any] | None = None

    @property
    def is_active(self) -> bool:
        return self.state == "running"


class AnalyticsJob:
    """The service's one streaming query, with a handle to start, stop and watch it.

    ``start`` blocks for as long as Spark takes to come up (~20 s locally): run it in a thread.
    Pass ``spark`` to run on a session someone else owns (and stops)."""

    def __init__(self, settings: AnalyticsSettings, spark: SparkSession | None = None) -> None:
        self.settings = settings
        self._spark = spark
        self._owns_spark = spark is None
        self._query: StreamingQuery | None = None
        self._start_error: str | None = None
        self._stopped = False
        self._lock = threading.Lock()  # start, restart and stop never interleave
        self._topic_ends = TopicEnds(
            KafkaSourceOptions(settings.kafka_bootstrap_servers, settings.kafka_topic, "earliest", 10.0)
        )

    def start(self) -> None:
        with self._lock:
            if self._stopped:
                return
            try:
                if self._spark is None:
                    self._spark = build_spark_session(self.settings)
                self._query = start_download_query(self._spark, self.settings, download_sink(self.settings))
            except Exception as exc:
                self._start_error = f"{type(exc).__name__}: {exc}"
                raise
            self._start_error = None

    def restart_if_failed(self) -> str | None:
        """Start the query again if it died; returns the failure it recovered from, if any.
        The new query resumes from the checkpoint, so nothing is lost or counted twice."""
        status = self.status()
        if status.state != "failed":
            return None
        self.start()
        return status.error

    def measure_lag(self) -> int | None:
        """Records behind the topic's end (also the gauge liftbit_analytics_consumer_lag)."""
        processed = processed_offsets(self.status().last_progress)
        if processed is None:
            return None
        with self._lock:  # stop() closes the consumer
            if self._stopped:
                return None
            ends = self._topic_ends.true_end_offsets()
        lag = sum(max(0, end - processed.get(partition, 0)) for partition, end in ends.items())
        CONSUMER_LAG.set(lag)
        return lag

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._topic_ends.close()
            if self._query is not None:
                # Let a running micro-batch finish: interrupted, it is run again after the restart,
                # and Spark logs a long stack trace on the way.
                deadline = time.monotonic() + STOP_GRACE_SECONDS
                while self._query.status["isTriggerActive"] and time.monotonic() < deadline:
                    time.sleep(0.1)
                self._query.stop()
            if self._spark is not None and self._owns_spark:
                self._spark.stop()

    def status(self) -> JobStatus:
        if self._stopped:
            return JobStatus("stopped")
        if self._start_error is not None:
            return JobStatus("failed", error=self._start_error)
        query = self._query
        if query is None:
            return JobStatus("starting")
        progress = query.lastProgress
        if query.isActive:
            return JobStatus("running", last_progress=progress)
        failure = query.exception()
        return JobStatus("failed", error=str(failure) if failure else "the query stopped", last_progress=progress)
