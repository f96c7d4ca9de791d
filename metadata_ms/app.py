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
from liftbit_common.errors import Conflict, ErrorCode, InvalidInput, NotFound, ServiceUnavailable
from liftbit_common.service_app import create_service_app
from metadata_ms.api import admin, files, health, links, objects, tokens, uploads, users
from metadata_ms.api.deps import MetadataServices
from metadata_ms.outbox import BrokerProducer, OutboxRelay
from metadata_ms.service.accounts import AccountService
from metadata_ms.service.admin import Administration
from metadata_ms.service.catalog import Catalog
from metadata_ms.service.links import LinkRegistry
from metadata_ms.service.nodes import PathLimits
from metadata_ms.service.objects import ObjectLedger
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.throttle import Throttle, ThrottlePolicy
from metadata_ms.service.tree import Tree
from metadata_ms.service.uploads import UploadRegistry
from metadata_ms.settings import MetadataSettings

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def throttle_policy(settings: MetadataSettings) -> ThrottlePolicy:
    return ThrottlePolicy(
        free_pair_failures=settings.login_free_pair_failures,
        max_backoff_seconds=settings.login_max_backoff_seconds,
        user_failures_per_hour=settings.login_user_failures_per_hour,
        address_failures=settings.login_address_failures,
        address_window_seconds=settings.login_address_window_seconds,
        address_logins_per_minute=settings.login_address_logins_per_minute,
        address_registrations_per_hour=settings.address_registrations_per_hour,
        exempt_addresses=settings.throttle_exempt_addresses,
    )


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
    # One vault and one throttle for logins and link passwords: together they bound argon2's CPU.
    vault = PasswordVault(
        concurrency=settings.password_hash_concurrency,
        queue=settings.password_hash_queue,
        nice=settings.password_hash_nice,
    )
    throttle = Throttle(sessions, throttle_policy(settings))
    administration = Administration(
        sessions,
        vault,
        invite_seconds=settings.invite_seconds,
        reset_seconds=settings.password_reset_seconds,
        default_quota_bytes=settings.default_quota_bytes,
    )
    admin_password = settings.liftbit_admin_password.get_secret_value() if settings.liftbit_admin_password else ""
    if admin_password:
        await administration.ensure_admin(settings.liftbit_admin_user, admin_password)
    else:
        log.warning("no_first_admin", reason="LIFTBIT_ADMIN_PASSWORD is not set")
    app.state.services = MetadataServices(
        database=engine,
        accounts=AccountService(
            sessions,
            vault,
            throttle,
            token_ttl_seconds=settings.token_ttl_seconds,
            default_quota_bytes=settings.default_quota_bytes,
            max_live_tokens=settings.max_live_tokens_per_user,
            registration=settings.registration,
        ),
        admin=administration,
        catalog=Catalog(
            sessions,
            replaced_object_retention_seconds=settings.replaced_object_retention_seconds,
            versions_kept=settings.file_versions_kept,
            limits=limits,
        ),
        tree=Tree(
            sessions, limits=limits, replaced_object_retention_seconds=settings.replaced_object_retention_seconds
        ),
        uploads=UploadRegistry(sessions, max_unfinished_per_user=settings.max_unfinished_uploads_per_user),
        links=LinkRegistry(sessions, vault, throttle),
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
        vault.close()


async def _unstorable_value(_: Request, exc: Exception) -> JSONResponse:
    error = InvalidInput("a value contains characters the database cannot store (e.g. NUL)")
    log.info("unstorable_value", error=str(exc).splitlines()[0])
    return JSONResponse(error.body(), status_code=error.status_code)


async def _concurrent_change(_: Request, exc: Exception) -> JSONResponse:
    """An integrity error the write paths did not prevent with a lock: a row vanished (foreign
    key) or appeared (unique) under a concurrent request. The loser gets the answer it would get a
    moment later, 404 or 409, never a 500 that files_ms reports as an outage."""
    assert isinstance(exc, sa_exc.IntegrityError)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    log.warning("concurrent_change", sqlstate=sqlstate, error=str(exc.orig).splitlines()[0])
    if sqlstate == "23503":  # foreign_key_violation
        error: NotFound | Conflict = NotFound("it was deleted meanwhile", code=ErrorCode.GONE_MEANWHILE)
    else:
        error = Conflict("it was changed by a concurrent request; try again", code=ErrorCode.CONCURRENT_CHANGE)
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
        internal_routers=[
            admin.router,
            users.router,
            tokens.router,
            files.router,
            uploads.router,
            links.router,
            objects.router,
        ],
        public_routers=[health.router],
        title="LiftBit metadata service (internal)",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_exception_handler(sa_exc.DataError, _unstorable_value)
    app.add_exception_handler(sa_exc.IntegrityError, _concurrent_change)
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(error, _database_unavailable)
    return app
