from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from analytics_ms.api.deps import Services
from analytics_ms.domain import TimeRange
from liftbit_common.contracts import DownloadWindow
from liftbit_common.errors import error_responses

router = APIRouter(tags=["analytics"])


@router.get(
    "/windows",
    response_model=list[DownloadWindow],
    responses=error_responses(401, 422, 503),
    summary="Download totals per window, oldest first",
    description=(
        "Windows inside [since, until]: starting at or after `since` and ending at or before `until`. "
        "Either bound may be left out. Times are RFC 3339 with an offset."
    ),
)
async def list_windows(
    services: Services,
    since: Annotated[AwareDatetime | None, Query(examples=["2026-11-24T12:00:00Z"])] = None,
    until: Annotated[AwareDatetime | None, Query(examples=["2026-11-24T13:00:00Z"])] = None,
) -> list[DownloadWindow]:
    return await services.windows.windows(TimeRange.checked(since, until))
