from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from files_ms.api.deps import Services
from liftbit_common.health import HealthReport, aggregate_report
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import serve

router = APIRouter(tags=["health"])

# Uploads, downloads and sharing work without analytics: download events wait in the outbox and
# the topic and are counted once the query runs. So a Spark query still starting (~20–50 s after
# every start) leaves the stack usable, "degraded", not down.
OPTIONAL = frozenset({"analytics_ms"})


@serve(router, HEALTH, responses={503: {"model": HealthReport}})
async def health(services: Services, response: Response) -> HealthReport:
    """200 "ok" when every part answers, 200 "degraded" while only analytics is still starting;
    else 503 "unavailable", and `checks` names what is down."""
    results = await asyncio.gather(*(client.health_checks() for client in services.dependencies))
    own = dict(next(iter(result.items())) for result in results)  # each service's own state comes first
    report = aggregate_report(own, {name: state for result in results for name, state in result.items()}, OPTIONAL)
    response.status_code = report.http_status
    return report
