"""metadata_ms: users, tokens, files, grants, resumable-upload state and the event outbox (Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import async_sessionmaker

from liftbit_common.db import create_engine, migrate_when_reachable
from liftbit_common.errors import InvalidInput, ServiceUnavailable
from liftbit_common.service_app import create_service_app
from metadata_ms.api import files, health, objects, tokens, uploads, users
from metadata_ms.api.deps import MetadataServices
from metadata_ms.outbox import BrokerProducer, OutboxRelay
from metadata_ms.service.accounts import AccountService
from metadata_ms.service.catalog import Catalog
from metadata_ms.service.nodes import PathLimits
from metadata_ms.service.objects import ObjectLedger
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.tree import Tree
from metadata_ms.service.uploads import UploadRegistry
from metadata_ms.settings import MetadataSettings

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: MetadataSettings = app.state.settings
    await migrate_when_reachable(MIGRATIONS, settings.database_url, VERSION_TABLE)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    limits = PathLimits(max_depth=settings.max_path_depth, max_bytes=settings.max_path_bytes)
    producer = BrokerProducer(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    relay = OutboxRelay(
        engine, settings.database_url, producer, settings.outbox_batch_size, settings.outbox_linger_seconds
    )
    app.state.services = MetadataServices(
        database=engine,
        accounts=AccountService(
            sessions,
            PasswordVault(),
            token_ttl_seconds=settings.token_ttl_seconds,
            default_quota_bytes=settings.default_quota_bytes,
        ),
        catalog=Catalog(
            sessions,
            replaced_object_retention_seconds=settings.replaced_object_retention_seconds,
            versions_kept=settings.file_versions_kept,
            limits=limits,
        ),
        tree=Tree(
            sessions, limits=limits, replaced_object_retention_seconds=settings.replaced_object_retention_seconds
        ),
        uploads=UploadRegistry(sessions),
        ledger=ObjectLedger(sessions),
        producer=producer,
        relay=relay,
    )
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        yield
    finally:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await asyncio.to_thread(producer.close)
        await engine.dispose()


async def _unstorable_value(_: Request, exc: Exception) -> JSONResponse:
    error = InvalidInput("a value contains characters the database cannot store (e.g. NUL)")
    log.info("unstorable_value", error=str(exc).splitlines()[0])
    return JSONResponse(error.body(), status_code=error.status_code)


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    error = ServiceUnavailable("postgres", f"postgres is unavailable: {type(exc).__name__}")
    log.warning("database_unavailable", error=str(exc))
    return JSONResponse(error.body(), status_code=503)


def create_app(settings: MetadataSettings | None = None) -> FastAPI:
    settings = settings or MetadataSettings()
    app = create_service_app(
        service="metadata_ms",
        settings=settings,
        internal_routers=[users.router, tokens.router, files.router, uploads.router, objects.router],
        public_routers=[health.router],
        title="LiftBit metadata service (internal)",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_exception_handler(sa_exc.DataError, _unstorable_value)
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(error, _database_unavailable)
    return app
