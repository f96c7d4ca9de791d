"""Operations for the platform's operators and tests; internal token required, not routed by nginx."""

from __future__ import annotations

from fastapi import APIRouter

from files_ms.api.deps import Services
from liftbit_common.internal_api import files as api
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["internal"], include_in_schema=False)


@serve(router, api.SWEEP)
async def sweep(services: Services) -> api.SweepReport:
    """Run the reconciler once, now."""
    return await services.reconciler.sweep()
