"""Reads of the window totals the streaming job writes (the job's sink does the writing)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from analytics_ms.domain import TimeRange
from analytics_ms.tables import download_windows
from liftbit_common.contracts import DownloadWindow


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

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
