"""Operations for the platform's operators and tests; internal token required, not routed by nginx."""

from __future__ import annotations

from fastapi import APIRouter

from files_ms.api.deps import Services
from files_ms.service.reconciler import SweepReport

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/sweep")
async def sweep(services: Services) -> SweepReport:
    """Run the reconciler once, now."""
    return await services.reconciler.sweep()
