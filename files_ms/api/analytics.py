from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from files_ms.api.deps import CurrentUser, Services
from liftbit_common.contracts import DownloadWindow
from liftbit_common.errors import InvalidInput, error_responses

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/downloads", responses=error_responses(401, 422, 503))
async def download_windows(
    _: CurrentUser,
    services: Services,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows starting at or after this")] = None,
    until: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows ending at or before this")] = None,
) -> list[DownloadWindow]:
    """Downloads per tumbling window (5 minutes by default): count and total bytes, oldest first."""
    if since and until and since > until:
        raise InvalidInput("since must not be after until")
    return await services.analytics.download_windows(since, until)
