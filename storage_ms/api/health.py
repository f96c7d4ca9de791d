from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from liftbit_common.health import HealthReport, health_response, run_health_checks
from storage_ms.api.deps import Objects

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthReport)
async def health(objects: Objects) -> JSONResponse:
    return health_response(await run_health_checks({"s3": objects.check}))
