"""How routes reach what the lifespan built (one place, no module globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from analytics_ms.job import AnalyticsJob
from analytics_ms.repository import WindowRepository


@dataclass(frozen=True)
class AnalyticsServices:
    windows: WindowRepository
    job: AnalyticsJob


async def _services(request: Request) -> AnalyticsServices:
    services: AnalyticsServices = request.app.state.services
    return services


Services = Annotated[AnalyticsServices, Depends(_services)]
