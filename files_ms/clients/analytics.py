"""Typed calls to analytics_ms, over the routes liftbit_common.internal_api.analytics defines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from liftbit_common.contracts import DownloadWindow, NodeStats, UserStats
from liftbit_common.internal_api import analytics as api
from liftbit_common.service_client import ServiceClient


class AnalyticsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def health_checks(self) -> dict[str, str]:
        return await self.http.health_checks()

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]:
        return await self.http.call(api.DOWNLOAD_WINDOWS, api.WindowQuery(since=since, until=until))

    async def node_stats(
        self, file_id: str | None, link_ids: Sequence[str], since: datetime | None, until: datetime | None
    ) -> NodeStats:
        query = api.NodeStatsQuery(file_id=file_id, link_ids=list(link_ids), since=since, until=until)
        return await self.http.call(api.NODE_STATS, query)

    async def owner_stats(self, owner: str, since: datetime | None, until: datetime | None, limit: int) -> UserStats:
        query = api.OwnerStatsQuery(since=since, until=until, limit=limit)
        return await self.http.call(api.OWNER_STATS, query, owner=owner)
