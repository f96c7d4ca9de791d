"""Owners' download statistics: analytics_ms counts, metadata_ms says where the files are now."""

from __future__ import annotations

from datetime import datetime

from files_ms.clients.protocols import Analytics, Metadata
from files_ms.service.access import AccessPolicy
from liftbit_common.contracts import FileInfo, FileTotals, NodeStats, UserStats
from liftbit_common.errors import InvalidInput


def check_range(since: datetime | None, until: datetime | None) -> None:
    if since and until and since > until:
        raise InvalidInput("since must not be after until")


class StatsService:
    def __init__(self, metadata: Metadata, analytics: Analytics, access: AccessPolicy) -> None:
        self._metadata = metadata
        self._analytics = analytics
        self._access = access

    async def node_stats(self, actor: str, node_id: str, since: datetime | None, until: datetime | None) -> NodeStats:
        """A file's downloads (by anyone, any way, per window and per link), or a folder's through
        its links; revoked links' downloads stay counted. The owner's alone (403 grantees, 404 others)."""
        check_range(since, until)
        stored = await self._access.owned_by_id(actor, node_id)
        links = await self._metadata.links(node_id, actor, include_revoked=True)
        file_id = node_id if isinstance(stored.node, FileInfo) else None
        return await self._analytics.node_stats(file_id, [link.id for link in links], since, until)

    async def user_stats(
        self, actor: str, username: str, since: datetime | None, until: datetime | None, limit: int
    ) -> UserStats:
        """The user's totals and most downloaded files, each named by its current path (null once
        it is in the trash or gone for good: the downloads it had still count)."""
        AccessPolicy.require_self(actor, username)
        check_range(since, until)
        stats = await self._analytics.owner_stats(username, since, until, limit)
        ids = [top.file_id for top in stats.top_files]
        paths = {node.id: node.path for node in await self._metadata.owned_nodes(username, ids)} if ids else {}
        top_files = [FileTotals(**{**top.model_dump(), "path": paths.get(top.file_id)}) for top in stats.top_files]
        return stats.model_copy(update={"top_files": top_files})
