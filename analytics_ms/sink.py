"""Where each micro-batch goes: the fine download rows into Postgres, the platform windows
recomputed from them, the leak alerts (table and topic), and the platform windows printed to the
console (the service log), as Spark's console sink printed them in the seed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TextIO

import psycopg
from confluent_kafka import KafkaError, Message, Producer
from pyspark.sql import DataFrame

from analytics_ms.transforms import COUNT_COLUMNS, WINDOW_COLUMNS
from liftbit_common.contracts import DownloadWindow
from liftbit_common.events import EventType, FileEvent, format_timestamp, utc_now_ms
from liftbit_common.settings import libpq_url

# The namespace of the link_alert events' ids: uuid5(link, window) is the same for a replayed
# batch, so a duplicate published then is dropped by readers as any redelivery is.
ALERT_NAMESPACE = uuid.UUID("5d0c6c8e-1b1f-4a57-9a8e-0c7f6c1d2a11")
ALERT_ACTOR = "analytics"
PUBLISH_TIMEOUT_SECONDS = 10.0

# The batch's rows arrive by COPY into a temporary table (far faster than one INSERT per row),
# then go over download_counts in one statement. Update output mode hands over each changed
# group's full current totals, so writing them over the stored row is idempotent: replaying a
# micro-batch rewrites the same numbers.
STAGE_COUNTS = """
CREATE TEMPORARY TABLE batch_counts (LIKE download_counts INCLUDING DEFAULTS) ON COMMIT DROP
"""
# The columns in transforms.COUNT_COLUMNS's order, which the rows are written in.
COPY_COUNTS = """
COPY batch_counts (window_start, window_end, owner, file_id, link_id, client_address, downloads, bytes, path)
FROM STDIN
"""
UPSERT_COUNTS = """
INSERT INTO download_counts (window_start, window_end, owner, file_id, link_id, client_address, downloads, bytes, path)
SELECT window_start, window_end, owner, file_id, link_id, client_address, downloads, bytes, path FROM batch_counts
ON CONFLICT (window_start, owner, file_id, link_id, client_address) DO UPDATE
SET window_end = EXCLUDED.window_end, downloads = EXCLUDED.downloads, bytes = EXCLUDED.bytes,
    path = EXCLUDED.path, updated_at = now()
WHERE (download_counts.downloads, download_counts.bytes, download_counts.path)
      IS DISTINCT FROM (EXCLUDED.downloads, EXCLUDED.bytes, EXCLUDED.path)
"""
# The platform windows the batch touched, summed again over all their fine rows (not only the
# batch's), so they stay exact however the batch splits a window's groups.
RECOMPUTE_WINDOWS = """
INSERT INTO download_windows (window_start, window_end, downloads, bytes, updated_at)
SELECT window_start, max(window_end), sum(downloads)::bigint, sum(bytes)::bigint, now()
FROM download_counts WHERE window_start = ANY(%(starts)s)
GROUP BY window_start
ON CONFLICT (window_start) DO UPDATE
SET window_end = EXCLUDED.window_end, downloads = EXCLUDED.downloads, bytes = EXCLUDED.bytes,
    updated_at = EXCLUDED.updated_at
WHERE (download_windows.downloads, download_windows.bytes) IS DISTINCT FROM (EXCLUDED.downloads, EXCLUDED.bytes)
"""
TOUCHED_WINDOWS = """
SELECT window_start, window_end, downloads, bytes FROM download_windows
WHERE window_start = ANY(%(starts)s) ORDER BY window_start
"""
# Links of the touched windows downloaded from more addresses than allowed (an exact distinct
# count over the fine rows) and not alerted yet, each with its most downloaded file there.
NEW_ALERTS = """
SELECT l.link_id, l.window_start, l.window_end, l.owner, l.addresses, l.bytes, top.file_id, top.path
FROM (
    SELECT link_id, window_start, max(window_end) AS window_end, min(owner) AS owner,
           count(DISTINCT client_address) FILTER (WHERE client_address <> '') AS addresses,
           sum(bytes)::bigint AS bytes
    FROM download_counts
    WHERE window_start = ANY(%(starts)s) AND link_id <> ''
    GROUP BY link_id, window_start
    HAVING count(DISTINCT client_address) FILTER (WHERE client_address <> '') > %(threshold)s
) AS l
CROSS JOIN LATERAL (
    SELECT c.file_id, max(c.path) AS path FROM download_counts AS c
    WHERE c.link_id = l.link_id AND c.window_start = l.window_start
    GROUP BY c.file_id ORDER BY sum(c.downloads) DESC, c.file_id LIMIT 1
) AS top
WHERE NOT EXISTS (
    SELECT 1 FROM link_alerts AS a WHERE a.link_id = l.link_id AND a.window_start = l.window_start
)
ORDER BY l.window_start, l.link_id
"""
INSERT_ALERT = """
INSERT INTO link_alerts (link_id, window_start, window_end, owner, addresses, bytes, file_id, path, event_id)
VALUES (%(link_id)s, %(window_start)s, %(window_end)s, %(owner)s, %(addresses)s, %(bytes)s, %(file_id)s,
        %(path)s, %(event_id)s)
ON CONFLICT (link_id, window_start) DO NOTHING
RETURNING link_id
"""


@dataclass(frozen=True)
class LinkAlert:
    link_id: str
    window_start: datetime
    window_end: datetime
    owner: str
    addresses: int
    bytes: int
    file_id: str
    path: str | None

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.uuid5(ALERT_NAMESPACE, f"{self.link_id}@{format_timestamp(self.window_start)}")

    def event(self) -> FileEvent:
        """The link_alert event: the link's owner, its most downloaded file in the window, and
        ``size`` = the bytes served through the link in the window."""
        return FileEvent(
            event_id=self.event_id,
            type=EventType.LINK_ALERT,
            owner=self.owner,
            filename=(self.path or "").rpartition("/")[2],
            size=self.bytes,
            actor=ALERT_ACTOR,
            occurred_at=utc_now_ms(),
            file_id=self.file_id or None,
            path=self.path,
            link_id=self.link_id,
        )


class AlertPublisher:
    """Publishes link_alert events to the topic and waits until the broker has them all."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._producer: Producer | None = None  # made on the first alert: most batches have none

    def publish(self, events: Sequence[FileEvent]) -> None:
        if not events:
            return
        if self._producer is None:
            self._producer = Producer(
                {"bootstrap.servers": self.bootstrap_servers, "enable.idempotence": False}  # Tansu refuses it
            )
        failures: list[KafkaError] = []

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                failures.append(error)

        for event in events:
            self._producer.produce(self.topic, key=event.key, value=event.to_json_bytes(), on_delivery=delivered)
        left = self._producer.flush(PUBLISH_TIMEOUT_SECONDS)
        if left or failures:
            # Raising rolls the batch's transaction back; Spark runs the batch again.
            raise RuntimeError(f"link_alert events not delivered: {left} pending, errors {failures}")


def collect_counts(batch: DataFrame) -> list[dict[str, Any]]:
    # Through Arrow, timestamps arrive as UTC datetimes; collect() would shift them to local time.
    rows: list[dict[str, Any]] = batch.select(*COUNT_COLUMNS).toArrow().to_pylist()
    return rows


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


def write_counts(
    database_url: str, rows: Sequence[dict[str, Any]], alert_addresses: int, publisher: AlertPublisher
) -> list[DownloadWindow]:
    """One transaction: the fine rows, the platform windows they touch, new alerts (published
    before the commit, so a failure to publish runs the batch again). Returns the touched
    platform windows, oldest first."""
    if not rows:
        return []
    starts = sorted({row["window_start"] for row in rows})
    with psycopg.connect(libpq_url(database_url), connect_timeout=5) as connection, connection.cursor() as cursor:
        cursor.execute(STAGE_COUNTS)
        with cursor.copy(COPY_COUNTS) as copy:
            for row in rows:
                copy.write_row([row[name] for name in COUNT_COLUMNS])
        cursor.execute(UPSERT_COUNTS)
        cursor.execute(RECOMPUTE_WINDOWS, {"starts": starts})
        cursor.execute(TOUCHED_WINDOWS, {"starts": starts})
        windows = [DownloadWindow(window_start=s, window_end=e, downloads=d, bytes=b) for s, e, d, b in cursor]
        cursor.execute(NEW_ALERTS, {"starts": starts, "threshold": alert_addresses})
        candidates = [LinkAlert(*row) for row in cursor.fetchall()]
        inserted: list[LinkAlert] = []
        for alert in candidates:
            cursor.execute(INSERT_ALERT, {**asdict(alert), "event_id": alert.event_id})
            if cursor.fetchone() is not None:
                inserted.append(alert)
        publisher.publish([alert.event() for alert in inserted])
    return windows


class DownloadSink:
    """The ``foreachBatch`` function of the download query."""

    def __init__(
        self, database_url: str, publisher: AlertPublisher, alert_addresses: int, console: TextIO | None = None
    ) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.alert_addresses = alert_addresses
        self.console = console  # None: whatever sys.stdout is when a batch arrives

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        windows = write_counts(self.database_url, collect_counts(batch), self.alert_addresses, self.publisher)
        print(console_table(batch_id, windows), file=self.console, flush=True)
