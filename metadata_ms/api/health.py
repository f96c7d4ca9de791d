from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from liftbit_common.health import HealthReport, health_response, run_health_checks
from metadata_ms.api.deps import Services

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthReport)
async def health(services: Services) -> JSONResponse:
    async def postgres() -> None:
        async with services.database.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def broker() -> None:
        await asyncio.to_thread(services.producer.check)

    return health_response(await run_health_checks({"postgres": postgres, "broker": broker}))
