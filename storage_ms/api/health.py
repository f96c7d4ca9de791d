from __future__ import annotations

from fastapi import APIRouter, Response

from liftbit_common.health import HealthReport, run_health_checks
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import serve
from storage_ms.api.deps import Objects

router = APIRouter(tags=["health"])


@serve(router, HEALTH, responses={503: {"model": HealthReport}})
async def health(objects: Objects, response: Response) -> HealthReport:
    report = await run_health_checks({"s3": objects.check})
    response.status_code = report.http_status
    return report
