"""Health reports: each check is an awaitable that raises when its dependency does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from pydantic import BaseModel

HealthCheck = Callable[[], Awaitable[None]]


class HealthReport(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]  # dependency name → "ok" or what went wrong

    @property
    def http_status(self) -> int:
        return 200 if self.status == "ok" else 503


async def _run_one(check: HealthCheck, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any failure of the dependency is the answer here
        return str(exc) or type(exc).__name__
    return "ok"


async def run_health_checks(checks: Mapping[str, HealthCheck], timeout: float = 2.0) -> HealthReport:
    names = list(checks)
    results = await asyncio.gather(*(_run_one(checks[name], timeout) for name in names))
    return report_from_checks(dict(zip(names, results, strict=True)))


def report_from_checks(checks: dict[str, str]) -> HealthReport:
    healthy = all(state == "ok" for state in checks.values())
    return HealthReport(status="ok" if healthy else "unavailable", checks=checks)
