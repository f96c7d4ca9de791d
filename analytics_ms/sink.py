"""Where each micro-batch of window totals goes: the console (the service log) and Postgres."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import psycopg
from pyspark.sql import DataFrame

from analytics_ms.transforms import WINDOW_COLUMNS
from liftbit_common.contracts import DownloadWindow
from liftbit_common.settings import libpq_url

# Update output mode hands over each changed window's full current totals, so writing them over
# the stored row is idempotent: replaying a micro-batch rewrites the same numbers.
UPSERT_WINDOW = """
INSERT INTO download_windows (window_start, window_end, downloads, bytes, updated_at)
VALUES (%(window_start)s, %(window_end)s, %(downloads)s, %(bytes)s, now())
ON CONFLICT (window_start) DO UPDATE
SET window_end = EXCLUDED.window_end, downloads = EXCLUDED.downloads, bytes = EXCLUDED.bytes,
    updated_at = EXCLUDED.updated_at
WHERE (download_windows.downloads, download_windows.bytes) IS DISTINCT FROM (EXCLUDED.downloads, EXCLUDED.bytes)
"""


def collect_windows(batch: DataFrame) -> list[DownloadWindow]:
    # Through Arrow, timestamps arrive as UTC datetimes; collect() would shift them to local time.
    rows = batch.select(*WINDOW_COLUMNS).orderBy("window_start").toArrow().to_pylist()
    return [DownloadWindow.model_validate(row) for row in rows]


def console_table(batch_id: int, windows: Sequence[DownloadWindow]) -> str:
    """The micro-batch as Spark's console sink prints it: a ``Batch: N`` banner, then the table."""
    header = list(WINDOW_COLUMNS)
    cells = [
        [
            w.window_start.strftime("%Y-%m-%d %H:%M:%S"),
            w.window_end.strftime("%Y-%m-%d %H:%M:%S"),
            str(w.downloads),
            str(w.bytes),
        ]
        for w in windows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    rule = "+" + "+".join("-" * width for width in widths) + "+"

    def line(row: list[str]) -> str:
        return "|" + "|".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) + "|"

    banner = "-" * 43
    return "\n".join([banner, f"Batch: {batch_id}", banner, rule, line(header), rule, *map(line, cells), rule, ""])


def upsert_windows(database_url: str, windows: Sequence[DownloadWindow]) -> None:
    if not windows:
        return
    with psycopg.connect(libpq_url(database_url), connect_timeout=5) as connection, connection.cursor() as cursor:
        cursor.executemany(UPSERT_WINDOW, [w.model_dump() for w in windows])


class WindowSink:
    """The ``foreachBatch`` function of the window query."""

    def __init__(self, database_url: str, console: TextIO | None = None) -> None:
        self.database_url = database_url
        self.console = console  # None: whatever sys.stdout is when a batch arrives

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        windows = collect_windows(batch)
        print(console_table(batch_id, windows), file=self.console, flush=True)
        upsert_windows(self.database_url, windows)
