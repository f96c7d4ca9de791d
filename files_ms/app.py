"""files_ms: the public API. Authenticates, validates and orchestrates metadata_ms and storage_ms."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from files_ms.api import (
    admin,
    analytics,
    auth,
    files,
    health,
    internal,
    links,
    nodes,
    permissions,
    tree,
    uploads,
    users,
)
from files_ms.api.deps import FilesServices
from files_ms.api.docs import install_docs
from files_ms.api.guards import RefuseUndecodablePath
from files_ms.clients.analytics import AnalyticsClient
from files_ms.clients.metadata import MetadataClient
from files_ms.clients.protocols import Analytics, Metadata, Storage
from files_ms.clients.storage import StorageClient
from files_ms.service.access import AccessPolicy
from files_ms.service.accounts import AccountService
from files_ms.service.admin import AdminService
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from files_ms.service.links import LinkCookies, LinkService
from files_ms.service.reconciler import Reconciler
from files_ms.service.resumable import ResumableUploads
from files_ms.service.stats import StatsService
from files_ms.service.tree import TreeService
from files_ms.settings import FilesSettings
from liftbit_common.service_app import create_service_app
from liftbit_common.service_client import ServiceClient

DESCRIPTION = """
Your own file store on S3. Register (`POST /users`), press **Authorize** with your username and
password, then upload, download, share and delete files in your namespace `/users/{username}/files`
(paths may hold folders: `photos/2024/a.jpg`), list folders under `/users/{username}/folders`, move
and rename with `POST /users/{username}/move`, restore from `/users/{username}/trash`, and reach a
file's versions and grants by its id under `/files/{id}`.

Every error has the shape `{"error": {"code": "...", "message": "..."}}`.
Downloads support `Range`, `If-None-Match` and `If-Match`; uploads may carry `X-Checksum-SHA256`
or `Repr-Digest`. Large uploads can resume with tus 1.0 under `/uploads/`.
"""


def build_services(
    settings: FilesSettings, *, metadata: Metadata, storage: Storage, analytics: Analytics
) -> FilesServices:
    """The domain services, wired to the other services (HTTP clients, or in-memory fakes in tests)."""
    access = AccessPolicy(metadata)
    authenticator = Authenticator(metadata, cache_seconds=settings.token_cache_seconds)
    file_service = FileService(metadata, storage, access, max_file_size=settings.max_file_size_bytes)
    return FilesServices(
        files=file_service,
        tree=TreeService(metadata, access, file_service),
        links=LinkService(
            metadata,
            access,
            file_service,
            LinkCookies(settings.internal_token.get_secret_value(), settings.link_cookie_seconds),
        ),
        accounts=AccountService(
            metadata,
            authenticator,
            file_service,
        ),
        admin=AdminService(metadata, authenticator, file_service, analytics),
        uploads=ResumableUploads(
            metadata,
            storage,
            file_service,
            part_size=settings.tus_part_size_bytes,
            expiry_seconds=settings.tus_expiry_seconds,
        ),
        authenticator=authenticator,
        analytics=analytics,
        stats=StatsService(metadata, analytics, access),
        reconciler=Reconciler(
            metadata,
            storage,
            orphan_grace_seconds=settings.orphan_grace_seconds,
            multipart_grace_seconds=settings.multipart_grace_seconds,
            trash_retention_seconds=int(settings.trash_retention_days * 86400),
        ),
        dependencies=(metadata, storage, analytics),
        public_url=settings.liftbit_public_url,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: FilesSettings = app.state.settings
    token = settings.internal_token.get_secret_value()
    metadata_http = ServiceClient("metadata_ms", settings.metadata_url, token)
    storage_http = ServiceClient("storage_ms", settings.storage_url, token)
    analytics_http = ServiceClient("analytics_ms", settings.analytics_url, token)
    services = build_services(
        settings,
        metadata=MetadataClient(metadata_http),
        storage=StorageClient(storage_http),
        analytics=AnalyticsClient(analytics_http),
    )
    app.state.services = services
    sweeper = (
        asyncio.create_task(services.reconciler.run_forever(settings.reconcile_interval_seconds), name="reconciler")
        if settings.reconcile_interval_seconds > 0
        else None
    )
    try:
        yield
    finally:
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        for client in (metadata_http, storage_http, analytics_http):
            await client.aclose()


def create_app(settings: FilesSettings | None = None, services: FilesServices | None = None) -> FastAPI:
    """With prebuilt ``services`` (the in-process tests' fakes) the app connects to nothing itself:
    no lifespan builds clients or starts the sweeper."""
    settings = settings or FilesSettings()
    app = create_service_app(
        service="files_ms",
        settings=settings,
        public_routers=[
            users.router,
            auth.router,
            auth.token_router,
            permissions.router,  # before files: …/files/{filename}/permissions must not read as a filename
            files.router,
            tree.router,
            nodes.router,
            uploads.router,
            links.router,
            links.upload_router,
            analytics.router,
            admin.router,
            health.router,
        ],
        internal_routers=[internal.router],
        title="LiftBit",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan if services is None else None,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings = settings
    install_docs(app)
    if services is not None:
        app.state.services = services
    generate_openapi = app.openapi
    app.openapi = lambda: uploads.publish_required_headers(generate_openapi())  # type: ignore[method-assign]
    app.add_middleware(uploads.TusResumableHeader)
    app.add_middleware(RefuseUndecodablePath)
    return app
