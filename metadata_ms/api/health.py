from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Response

from liftbit_common.health import HealthReport, run_health_checks
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["health"])


@serve(router, HEALTH, responses={503: {"model": HealthReport}})
async def health(services: Services, response: Response) -> HealthReport:
    async def postgres() -> None:
        async with services.database.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def broker() -> None:
        await asyncio.to_thread(services.producer.check)

    report = await run_health_checks({"postgres": postgres, "broker": broker})
    response.status_code = report.http_status
    return report
