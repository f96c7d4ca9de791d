"""Health reports: each check is an awaitable that raises when its dependency does not answer
(`Starting` when it is on its way up)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Literal

from pydantic import BaseModel

HealthCheck = Callable[[], Awaitable[None]]
STARTING = "starting"


class Starting(Exception):
    """Raised by a check whose dependency is coming up rather than broken."""


class HealthReport(BaseModel):
    # ok: every check answers. starting: none failed, some still come up. degraded (files_ms's
    # aggregate only): the file API works, an optional dependency (analytics) is still starting.
    status: Literal["ok", "starting", "degraded", "unavailable"]
    checks: dict[str, str]  # dependency name → "ok", "starting" or what went wrong

    @property
    def http_status(self) -> int:
        return 200 if self.status in ("ok", "degraded") else 503


async def _run_one(check: HealthCheck, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Starting:
        return STARTING
    except Exception as exc:  # any failure of the dependency is the answer here
        return str(exc) or type(exc).__name__
    return "ok"


async def run_health_checks(checks: Mapping[str, HealthCheck], timeout: float = 2.0) -> HealthReport:
    names = list(checks)
    results = await asyncio.gather(*(_run_one(checks[name], timeout) for name in names))
    states = dict(zip(names, results, strict=True))
    if all(state == "ok" for state in states.values()):
        return HealthReport(status="ok", checks=states)
    if all(state in ("ok", STARTING) for state in states.values()):
        return HealthReport(status="starting", checks=states)
    return HealthReport(status="unavailable", checks=states)


def aggregate_report(
    services: Mapping[str, str], checks: dict[str, str], optional: Collection[str] = ()
) -> HealthReport:
    """The report of a service that calls others: ``services`` is each one's own state, ``checks``
    everything they said. Only ``optional`` services still starting (every check not ok says
    "starting") leave the caller usable, degraded; anything else not ok makes it unavailable."""
    if all(state == "ok" for state in (*services.values(), *checks.values())):
        return HealthReport(status="ok", checks=checks)
    only_starting = all(state in ("ok", STARTING) for state in checks.values())
    if only_starting and all(name in optional for name, state in services.items() if state != "ok"):
        return HealthReport(status="degraded", checks=checks)
    return HealthReport(status="unavailable", checks=checks)
