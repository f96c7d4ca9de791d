from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from files_ms.api.deps import Services
from liftbit_common.health import HealthReport, report_from_checks
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["health"])


@serve(router, HEALTH, responses={503: {"model": HealthReport}})
async def health(services: Services, response: Response) -> HealthReport:
    """200 when every part answers; else 503, and `checks` names what is down."""
    results = await asyncio.gather(*(client.health_checks() for client in services.dependencies))
    report = report_from_checks({name: state for result in results for name, state in result.items()})
    response.status_code = report.http_status
    return report
