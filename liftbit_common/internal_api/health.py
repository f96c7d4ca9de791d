"""The health route every service answers, files_ms's public one included."""

from __future__ import annotations

from liftbit_common.health import HealthReport
from liftbit_common.internal_api.route import Route

# 200 when every dependency answers, else 503 with the same body naming what failed.
HEALTH: Route[None, HealthReport] = Route("GET", "/health", answer=HealthReport)
