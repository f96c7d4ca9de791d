from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from files_ms.api.deps import Services
from liftbit_common.health import HealthReport, health_response, report_from_checks

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthReport, responses={503: {"model": HealthReport}})
async def health(services: Services) -> JSONResponse:
    """200 when every part answers; else 503, and `checks` names what is down."""
    results = await asyncio.gather(*(client.health_checks() for client in services.dependencies))
    checks = {name: state for result in results for name, state in result.items()}
    return health_response(report_from_checks(checks))
