"""The owners' stats: a file's or links' windows and totals, an owner's top files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from analytics_ms.api.deps import Services
from analytics_ms.domain import TimeRange
from liftbit_common.contracts import NodeStats, UserStats
from liftbit_common.errors import error_responses
from liftbit_common.internal_api import analytics as api
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["stats"])


@serve(
    router,
    api.NODE_STATS,
    responses=error_responses(401, 422, 503),
    summary="Downloads of a file or of links, per window and per link",
)
async def node_stats(services: Services, query: api.NodeStatsQuery) -> NodeStats:
    time_range = TimeRange.checked(query.since, query.until)
    return await services.windows.node_stats(query.file_id, query.link_ids, time_range)


@serve(
    router,
    api.OWNER_STATS,
    responses=error_responses(401, 422, 503),
    summary="What an owner's files served, and the most downloaded ones (paths null)",
)
async def owner_stats(owner: str, services: Services, query: Annotated[api.OwnerStatsQuery, Query()]) -> UserStats:
    return await services.windows.owner_stats(owner, TimeRange.checked(query.since, query.until), query.limit)
