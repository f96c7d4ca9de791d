"""The foreachBatch sink: console table and idempotent upserts into Postgres."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame, SparkSession

from analytics_ms.sink import WindowSink
from tests.support.analytics import stored_totals, utc

GIB = 1024**3


def window_batch(spark: SparkSession, rows: list[tuple[int, int, int]]) -> DataFrame:
    """A micro-batch as the window query emits it; rows are (minute of 12:xx, downloads, bytes)."""
    return spark.createDataFrame(
        [(utc(12, minute), utc(12, minute + 5), downloads, size) for minute, downloads, size in rows],
        "window_start TIMESTAMP, window_end TIMESTAMP, downloads BIGINT, bytes BIGINT",
    )


def test_replaying_a_batch_does_not_double_count(spark: SparkSession, download_windows_table: str) -> None:
    sink = WindowSink(download_windows_table)
    batch = window_batch(spark, [(0, 3, 300), (5, 2, 5 * GIB)])

    sink(batch, 4)
    sink(batch, 4)  # Spark replays the last batch after a crash between sink and commit

    assert stored_totals(download_windows_table) == {utc(12, 0): (3, 300), utc(12, 5): (2, 5 * GIB)}


def test_a_later_batch_replaces_the_totals_of_the_windows_it_carries(
    spark: SparkSession, download_windows_table: str
) -> None:
    sink = WindowSink(download_windows_table)
    sink(window_batch(spark, [(0, 3, 300), (5, 2, 20)]), 0)

    sink(window_batch(spark, [(5, 4, 45), (10, 1, 7)]), 1)  # update mode: full current totals

    assert stored_totals(download_windows_table) == {
        utc(12, 0): (3, 300),
        utc(12, 5): (4, 45),
        utc(12, 10): (1, 7),
    }


def test_each_batch_is_printed_like_the_console_sink(
    spark: SparkSession, download_windows_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    WindowSink(download_windows_table)(window_batch(spark, [(5, 12, 6 * GIB), (0, 3, 300)]), 9)

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
