"""The analytics as plain DataFrame functions: the same code runs on a stream and on a batch."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from liftbit_common.events import SPARK_SCHEMA_DDL, EventType

DEFAULT_WINDOW = "5 minutes"
DEFAULT_WATERMARK = "10 minutes"
WINDOW_COLUMNS = ("window_start", "window_end", "downloads", "bytes")
# What a download row is grouped by besides its window (null → ''); download_counts's key.
KEY_COLUMNS = ("owner", "file_id", "link_id", "client_address")
COUNT_COLUMNS = ("window_start", "window_end", *KEY_COLUMNS, "downloads", "bytes", "path")


def parse_events(records: DataFrame) -> DataFrame:
    """Kafka records (a binary ``value`` column) → one row per event, with the event's fields.

    A value that is not an event parses to nulls and is dropped, so one bad message cannot stop
    the stream."""
    event = F.from_json(F.col("value").cast("string"), SPARK_SCHEMA_DDL)
    return (
        records.select(event.alias("event"))
        .select("event.*")
        .where(F.col("event_id").isNotNull() & F.col("occurred_at").isNotNull())
    )


def download_counts(
    events: DataFrame, *, window: str = DEFAULT_WINDOW, watermark: str = DEFAULT_WATERMARK
) -> DataFrame:
    """Downloads per tumbling window of ``occurred_at`` at the finest grain the stats need: one row
    per (window, owner, file, link, client address), with count, total bytes (64-bit) and the
    file's path (the greatest seen, so a file moved within the window has one).

    One stateful aggregation serves every view: the platform windows, per-file and per-link totals
    and the leak alert's distinct addresses are sums (or a distinct count) of these rows, computed
    in Postgres by the sink. Nulls become '' because the rows' key is a primary key there.

    Delivery is at-least-once, so a redelivered event (same ``event_id``) is counted once; the
    watermark bounds how long ids are remembered and how late an event may arrive."""
    downloads = events.where(F.col("type") == EventType.DOWNLOAD.value).withWatermark("occurred_at", watermark)
    # Spark refuses the watermark-bounded form on a batch, where plain dropDuplicates is exact.
    if downloads.isStreaming:
        downloads = downloads.dropDuplicatesWithinWatermark(["event_id"])
    else:
        downloads = downloads.dropDuplicates(["event_id"])
    keys = [F.coalesce(F.col(name), F.lit("")).alias(name) for name in KEY_COLUMNS]
    return (
        downloads.groupBy(F.window("occurred_at", window).alias("window"), *keys)
        .agg(
            F.count(F.lit(1)).alias("downloads"),
            F.sum(F.col("size").cast("bigint")).alias("bytes"),
            F.max("path").alias("path"),
        )
        .select(
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            *KEY_COLUMNS,
            F.col("downloads").cast("bigint"),
            F.coalesce(F.col("bytes"), F.lit(0).cast("bigint")).alias("bytes"),
            "path",
        )
    )
