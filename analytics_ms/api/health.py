from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from analytics_ms.api.deps import Services
from liftbit_common.health import HealthReport, Starting, run_health_checks
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["health"])


@serve(router, HEALTH, responses={503: {"model": HealthReport}})
async def health(services: Services, response: Response) -> HealthReport:
    """200 when Postgres answers and the streaming query runs; 503 says which is not so
    ("starting" while Spark brings the query up)."""

    async def streaming_query() -> None:
        status = await asyncio.to_thread(services.job.status)  # asks the JVM
        if status.state == "starting":
            raise Starting
        if not status.is_active:
            raise RuntimeError(f"{status.state}: {status.error}" if status.error else status.state)

    checks = {"postgres": services.windows.ping, "streaming_query": streaming_query}
    report = await run_health_checks(checks)
    response.status_code = report.http_status
    return report
