"""Reads of what the streaming job writes (the job's sink does the writing): the platform windows,
and the stats of a file, of links and of an owner, summed over the fine rows of download_counts."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from analytics_ms.domain import TimeRange
from analytics_ms.tables import download_counts, download_windows, link_alerts
from liftbit_common.contracts import DownloadWindow, FileTotals, LinkTotals, NodeStats, UserStats, WindowTotals

counts = download_counts.c
alerts = link_alerts.c


def _total(column: sa.ColumnElement[int]) -> sa.Cast[int]:
    """sum() of a bigint is numeric in Postgres; the totals fit in 64 bits."""
    return sa.cast(sa.func.coalesce(sa.func.sum(column), 0), sa.BigInteger)


def _in_range(time_range: TimeRange) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if time_range.since is not None:
        conditions.append(counts.window_start >= time_range.since)
    if time_range.until is not None:
        conditions.append(counts.window_end <= time_range.until)
    return conditions


# Distinct non-empty client addresses ('' stands for "none": not a link download).
_ADDRESSES = sa.func.count(sa.distinct(sa.func.nullif(counts.client_address, "")))
# Each fine row of a link meets at most one alert (the alert's key is the row's link and window).
_ALERTED = sa.func.coalesce(sa.func.bool_or(alerts.link_id.is_not(None)), False)
_WITH_ALERTS = download_counts.outerjoin(
    link_alerts, sa.and_(alerts.link_id == counts.link_id, alerts.window_start == counts.window_start)
)


class WindowRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def windows(self, time_range: TimeRange) -> list[DownloadWindow]:
        table = download_windows
        query = sa.select(table.c.window_start, table.c.window_end, table.c.downloads, table.c.bytes).order_by(
            table.c.window_start
        )
        if time_range.since is not None:
            query = query.where(table.c.window_start >= time_range.since)
        if time_range.until is not None:
            query = query.where(table.c.window_end <= time_range.until)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings()
            return [DownloadWindow.model_validate(row) for row in rows]

    async def node_stats(self, file_id: str | None, link_ids: Sequence[str], time_range: TimeRange) -> NodeStats:
        """Downloads of the file (any way) or through the links. A window's or link's ``alert``:
        a leak alert of a link among these rows in that window (for a link: in any window of the range)."""
        selected: ColumnElement[bool] = counts.link_id.in_(list(link_ids))
        if file_id is not None:
            selected = sa.or_(counts.file_id == file_id, selected)
        where = [selected, *_in_range(time_range)]
        per_window = (
            sa.select(
                counts.window_start,
                sa.func.max(counts.window_end).label("window_end"),
                _total(counts.downloads).label("downloads"),
                _total(counts.bytes).label("bytes"),
                _ADDRESSES.label("addresses"),
                _ALERTED.label("alert"),
            )
            .select_from(_WITH_ALERTS)
            .where(*where)
            .group_by(counts.window_start)
            .order_by(counts.window_start)
        )
        per_link = (
            sa.select(
                counts.link_id,
                _total(counts.downloads).label("downloads"),
                _total(counts.bytes).label("bytes"),
                _ADDRESSES.label("addresses"),
                _ALERTED.label("alert"),
            )
            .select_from(_WITH_ALERTS)
            .where(*where, counts.link_id != "")
            .group_by(counts.link_id)
            .order_by(sa.desc("downloads"), counts.link_id)
        )
        async with self._engine.connect() as connection:
            windows = [WindowTotals.model_validate(row) for row in (await connection.execute(per_window)).mappings()]
            links = [LinkTotals.model_validate(row) for row in (await connection.execute(per_link)).mappings()]
        return NodeStats(
            downloads=sum(w.downloads for w in windows),
            bytes=sum(w.bytes for w in windows),
            windows=windows,
            links=links,
        )

    async def owner_stats(self, owner: str, time_range: TimeRange, limit: int) -> UserStats:
        """What the owner's files served, and the ``limit`` most downloaded (path left null:
        analytics knows the path at download time, not where the file is now)."""
        where = [counts.owner == owner, *_in_range(time_range)]
        totals = sa.select(_total(counts.downloads), _total(counts.bytes)).where(*where)
        top = (
            sa.select(
                counts.file_id,
                _total(counts.downloads).label("downloads"),
                _total(counts.bytes).label("bytes"),
            )
            .where(*where, counts.file_id != "")
            .group_by(counts.file_id)
            .order_by(sa.desc("downloads"), counts.file_id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            downloads, size = (await connection.execute(totals)).one()
            files = [FileTotals(path=None, **row) for row in (await connection.execute(top)).mappings()]
        return UserStats(downloads=downloads, bytes=size, top_files=files)

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
