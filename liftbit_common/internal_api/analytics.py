"""analytics_ms's route: the download windows the streaming job keeps."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from liftbit_common.contracts import DownloadWindow
from liftbit_common.internal_api.route import Route


class WindowQuery(BaseModel):
    since: AwareDatetime | None = Field(None, examples=["2026-11-24T12:00:00Z"])
    until: AwareDatetime | None = Field(None, examples=["2026-11-24T13:00:00Z"])


DOWNLOAD_WINDOWS: Route[WindowQuery, list[DownloadWindow]] = Route(
    "GET", "/windows", WindowQuery, list[DownloadWindow], request_in="query"
)
