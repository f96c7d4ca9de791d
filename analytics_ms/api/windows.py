from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from analytics_ms.api.deps import Services
from analytics_ms.domain import TimeRange
from liftbit_common.contracts import DownloadWindow
from liftbit_common.errors import error_responses
from liftbit_common.internal_api import analytics as api
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["analytics"])


@serve(
    router,
    api.DOWNLOAD_WINDOWS,
    responses=error_responses(401, 422, 503),
    summary="Download totals per window, oldest first",
    description=(
        "Windows inside [since, until]: starting at or after `since` and ending at or before `until`. "
        "Either bound may be left out. Times are RFC 3339 with an offset."
    ),
)
async def list_windows(services: Services, query: Annotated[api.WindowQuery, Query()]) -> list[DownloadWindow]:
    return await services.windows.windows(TimeRange.checked(query.since, query.until))
