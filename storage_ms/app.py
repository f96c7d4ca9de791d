"""storage_ms: object bytes on S3 (boto3), streamed both ways."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI

from liftbit_common.service_app import create_service_app
from storage_ms.api import health, objects
from storage_ms.s3 import ObjectStore
from storage_ms.service import ObjectService
from storage_ms.settings import StorageSettings


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: StorageSettings = app.state.settings
    store = ObjectStore(
        endpoint_url=settings.s3_endpoint_url,
        key_id=settings.s3_key_id,
        key_secret=settings.s3_key_secret.get_secret_value() if settings.s3_key_secret else None,
        region=settings.s3_region,
        bucket=settings.s3_bucket,
        max_connections=settings.s3_max_connections,
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
        max_attempts=settings.s3_max_attempts,
    )
    with contextlib.suppress(Exception):  # S3 may be down now; /health says so, requests get 503
        await store.ensure_bucket()
    app.state.objects = ObjectService(
        store,
        part_size=settings.part_size_bytes,
        concurrency=settings.upload_concurrency,
        presign_ttl_seconds=settings.presign_ttl_seconds,
    )
    yield
    await app.state.objects.finish_aborts()


def create_app(settings: StorageSettings | None = None) -> FastAPI:
    settings = settings or StorageSettings(_env_file=os.environ.get("STORAGE_ENV_FILE", "storage_ms/.env"))
    app = create_service_app(
        service="storage_ms",
        settings=settings,
        internal_routers=[objects.router],
        public_routers=[health.router],
        title="LiftBit storage service (internal)",
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
