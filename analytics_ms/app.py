"""analytics_ms: the download-window streaming job and the internal API that serves its results."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from fastapi import FastAPI

from analytics_ms.api import health, stats, windows
from analytics_ms.api.deps import AnalyticsServices
from analytics_ms.job import AnalyticsJob
from analytics_ms.repository import WindowRepository
from analytics_ms.settings import AnalyticsSettings
from liftbit_common.db import create_engine, migrate_when_reachable
from liftbit_common.service_app import create_service_app

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "analytics_alembic_version"  # metadata_ms keeps its own history in the same database
QUERY_CHECK_SECONDS = 10


async def run_job(job: AnalyticsJob) -> None:
    """Start the query (Spark takes a while; the API is up meanwhile), then restart it whenever it
    dies, e.g. while the broker or the database was away. It resumes from its checkpoint."""
    try:
        await asyncio.to_thread(job.start)
        log.info("analytics_query_started")
    except Exception:
        log.exception("analytics_query_start_failed")
    while True:
        await asyncio.sleep(QUERY_CHECK_SECONDS)
        try:
            failure = await asyncio.to_thread(job.restart_if_failed)
        except Exception:
            log.exception("analytics_query_restart_failed")
        else:
            if failure is not None:
                log.warning("analytics_query_restarted", failure=failure)
        try:
            await asyncio.to_thread(job.measure_lag)
        except Exception as exc:  # the broker may be away; the next round tries again
            log.info("consumer_lag_unknown", error=str(exc))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: AnalyticsSettings = app.state.settings
    await migrate_when_reachable(MIGRATIONS, settings.database_url, VERSION_TABLE)
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=2)
    job = AnalyticsJob(settings)
    app.state.services = AnalyticsServices(windows=WindowRepository(engine), job=job)
    job_task = asyncio.create_task(run_job(job), name="analytics-job")
    try:
        yield
    finally:
        job_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job_task
        await asyncio.to_thread(job.stop)  # waits for a start still under way, then stops it
        await engine.dispose()


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    app = create_service_app(
        service="analytics_ms",
        settings=settings,
        internal_routers=[windows.router, stats.router],
        public_routers=[health.router],
        title="LiftBit analytics service (internal)",
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
