"""Dependencies: services built by the lifespan, and the caller's identity from the bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import AfterValidator
from starlette.requests import ClientDisconnect

from files_ms.clients.analytics import AnalyticsClient
from files_ms.service.accounts import AccountService
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from files_ms.service.reconciler import Reconciler
from files_ms.service.resumable import ResumableUploads
from files_ms.service.tree import TreeService
from liftbit_common.names import PATH_RULE, normalize_path
from liftbit_common.service_client import ServiceClient

BODY_CHUNK_BYTES = 1024 * 1024

# A path parameter of ``{name:path}`` routes: folders are part of the name, an encoded '/' means the same.
FilenamePath = Annotated[str, AfterValidator(normalize_path), Path(description=PATH_RULE)]


@dataclass(frozen=True)
class FilesServices:
    files: FileService
    tree: TreeService
    accounts: AccountService
    uploads: ResumableUploads
    authenticator: Authenticator
    analytics: AnalyticsClient
    reconciler: Reconciler
    dependencies: tuple[ServiceClient, ...]


async def _services(request: Request) -> FilesServices:
    services: FilesServices = request.app.state.services
    return services


Services = Annotated[FilesServices, Depends(_services)]

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer)]


async def _current_user(services: Services, token: BearerToken) -> str:
    return await services.authenticator.username_for(token)


CurrentUser = Annotated[str, Depends(_current_user)]


async def coalesced(chunks: AsyncIterator[bytes], size: int = BODY_CHUNK_BYTES) -> AsyncIterator[bytes]:
    """Pass a body on in ~1 MiB pieces: fewer, larger writes to the next service. The pieces are
    joined once (a growing bytearray copied out again costs two copies and a fresh allocation)."""
    pending: list[bytes] = []
    pending_size = 0
    async for chunk in chunks:
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= size:
            yield b"".join(pending)
            pending.clear()
            pending_size = 0
    if pending:
        yield b"".join(pending)


def request_body(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a client that goes away aborts the upload."""
    return coalesced(request.stream())


async def _until_disconnect(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        return


def resumable_body(request: Request) -> AsyncIterator[bytes]:
    """The body of a resumable-upload request: if the client goes away, what arrived still counts."""
    return coalesced(_until_disconnect(request))
