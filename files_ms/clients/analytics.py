"""Typed calls to analytics_ms, over the route liftbit_common.internal_api.analytics defines."""

from __future__ import annotations

from datetime import datetime

from liftbit_common.contracts import DownloadWindow
from liftbit_common.internal_api import analytics as api
from liftbit_common.service_client import ServiceClient


class AnalyticsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def health_checks(self) -> dict[str, str]:
        return await self.http.health_checks()

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]:
        return await self.http.call(api.DOWNLOAD_WINDOWS, api.WindowQuery(since=since, until=until))
