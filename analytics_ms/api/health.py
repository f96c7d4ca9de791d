from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from analytics_ms.api.deps import Services
from liftbit_common.health import HealthReport, health_response, run_health_checks

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthReport, responses={503: {"model": HealthReport}})
async def health(services: Services) -> JSONResponse:
    """200 when Postgres answers and the streaming query runs; 503 says which is not so."""

    async def streaming_query() -> None:
        status = await asyncio.to_thread(services.job.status)  # asks the JVM
        if not status.is_active:
            raise RuntimeError(f"{status.state}: {status.error}" if status.error else status.state)

    checks = {"postgres": services.windows.ping, "streaming_query": streaming_query}
    return health_response(await run_health_checks(checks))
