"""analytics_ms's routes: the download windows, node and owner stats the streaming job keeps."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from liftbit_common.contracts import DownloadWindow, NodeStats, UserStats
from liftbit_common.internal_api.route import Route


class WindowQuery(BaseModel):
    since: AwareDatetime | None = Field(None, examples=["2026-11-24T12:00:00Z"])
    until: AwareDatetime | None = Field(None, examples=["2026-11-24T13:00:00Z"])


DOWNLOAD_WINDOWS: Route[WindowQuery, list[DownloadWindow]] = Route(
    "GET", "/windows", WindowQuery, list[DownloadWindow], request_in="query"
)


class NodeStatsQuery(BaseModel):
    """The downloads of a file (``file_id``: by anyone, through any way) and of ``link_ids``
    (a folder's links: file_id null), in windows inside [since, until]."""

    file_id: str | None = None
    link_ids: list[str] = Field(default_factory=list, max_length=1000)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class OwnerStatsQuery(WindowQuery):
    limit: int = Field(10, ge=1, le=100, description="How many of the most downloaded files")


NODE_STATS: Route[NodeStatsQuery, NodeStats] = Route("POST", "/stats/nodes", NodeStatsQuery, NodeStats)
# top_files[].path is null here: files_ms fills in the current paths (metadata_ms knows them).
OWNER_STATS: Route[OwnerStatsQuery, UserStats] = Route(
    "GET", "/stats/owners/{owner}", OwnerStatsQuery, UserStats, request_in="query"
)
