"""Typed calls to analytics_ms."""

from __future__ import annotations

from datetime import datetime

from liftbit_common.contracts import DownloadWindow
from liftbit_common.service_client import ServiceClient


class AnalyticsClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]:
        params = {name: value.isoformat() for name, value in (("since", since), ("until", until)) if value}
        return await self.http.fetch(list[DownloadWindow], "GET", "/windows", params=params)
