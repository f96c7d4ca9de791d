"""Dependencies: services built by the lifespan, and the caller's identity from the bearer token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import AfterValidator
from starlette.requests import ClientDisconnect

from files_ms.clients.protocols import Analytics, Dependency
from files_ms.service.accounts import AccountService
from files_ms.service.admin import AdminService
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from files_ms.service.links import LinkService
from files_ms.service.reconciler import Reconciler
from files_ms.service.resumable import ResumableUploads
from files_ms.service.stats import StatsService
from files_ms.service.tree import TreeService
from liftbit_common.contracts import TokenOwner
from liftbit_common.errors import ErrorCode, Forbidden, RequestTimeout
from liftbit_common.internal_api.route import Encoded
from liftbit_common.names import PATH_RULE, normalize_path, path_pattern

BODY_CHUNK_BYTES = 1024 * 1024
# A slow client's bytes are passed on at least this often: at 20 KiB/s a 1 MiB piece would take
# 50 s, and storage_ms would sit that long on a silent connection (see coalesced).
BODY_FLUSH_SECONDS = 1.0
# A client that sends nothing for this long in the middle of a body is answered 408. Just below
# nginx's client_body_timeout (60 s), which would cut the connection without any answer.
BODY_IDLE_SECONDS = 55.0


def _publish_path_rule(schema: dict[str, Any]) -> None:
    """The rule in the OpenAPI schema as well as in the validator (built when the schema is)."""
    schema.update(pattern=path_pattern(), minLength=1)


# A path parameter of ``{name:path}`` routes: folders are part of the name, an encoded '/' means the same.
FilenamePath = Annotated[
    str, AfterValidator(normalize_path), Path(description=PATH_RULE, json_schema_extra=_publish_path_rule)
]


@dataclass(frozen=True)
class FilesServices:
    files: FileService
    tree: TreeService
    links: LinkService
    accounts: AccountService
    admin: AdminService
    uploads: ResumableUploads
    authenticator: Authenticator
    analytics: Analytics
    stats: StatsService
    reconciler: Reconciler
    dependencies: tuple[Dependency, ...]  # what /health asks
    public_url: str  # LIFTBIT_PUBLIC_URL; "" when not configured


async def _services(request: Request) -> FilesServices:
    services: FilesServices = request.app.state.services
    return services


Services = Annotated[FilesServices, Depends(_services)]

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer)]


# What a read-scoped API token may do: read. Every other method writes, deletes, shares or
# creates links, so the rule holds for routes added later without their knowing of it.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _identity(request: Request, services: Services, token: BearerToken) -> TokenOwner:
    """The one place that turns a bearer token into rights: who, which role (from metadata_ms's
    tables, never from the request) and what the token's scope allows."""
    identity = await services.authenticator.identity_for(token)
    if identity.scope == "read" and request.method not in READ_METHODS:
        raise Forbidden(
            f"this API token has scope 'read': it may only read, not {request.method}",
            code=ErrorCode.READ_ONLY_TOKEN,
        )
    return identity


Identity = Annotated[TokenOwner, Depends(_identity)]


async def _current_user(identity: Identity) -> str:
    return identity.username


CurrentUser = Annotated[str, Depends(_current_user)]

# The web app's download cookie (POST /auth/session sets it): the bearer token, HttpOnly and
# SameSite=Strict, so a browser can fetch bytes by navigation (<a download>, <img>, <video>).
SESSION_COOKIE = "liftbit_session"


async def _reader(request: Request, services: Services, token: BearerToken) -> str:
    """The caller of a route that only reads bytes: the bearer header, else on GET and HEAD the
    download cookie. Routes that change anything take CurrentUser, which never reads the cookie:
    a request another site makes the browser send cannot change anything (and SameSite=Strict
    keeps the cookie off such requests in the first place)."""
    if not token and request.method in ("GET", "HEAD"):
        token = request.cookies.get(SESSION_COOKIE) or None
    return await services.authenticator.username_for(token)


# Downloads of file bytes only (files, versions): bearer header or download cookie.
ByteReader = Annotated[str, Depends(_reader)]


async def _current_admin(identity: Identity) -> str:
    if identity.role != "admin":
        raise Forbidden("only administrators may do this", code=ErrorCode.ADMIN_ONLY)
    return identity.username


CurrentAdmin = Annotated[str, Depends(_current_admin)]


def client_address(request: Request) -> str:
    # nginx sets X-Real-IP; files_ms listens on loopback only, so the header cannot be forged past it.
    return request.headers.get("x-real-ip") or (request.client.host if request.client else "unknown")


def public_base_url(request: Request, configured: str) -> str:
    """Where absolute URLs the API hands out start: LIFTBIT_PUBLIC_URL, else the listener nginx
    accepted the connection on (X-Liftbit-Listener, which nginx always sets), else nothing (the
    URL stays relative). Never the Host header, which the client chose."""
    return configured or request.headers.get("x-liftbit-listener", "")


async def coalesced(
    chunks: AsyncIterator[bytes], size: int = BODY_CHUNK_BYTES, flush_seconds: float = BODY_FLUSH_SECONDS
) -> AsyncIterator[bytes]:
    """Pass a body on in ~1 MiB pieces: fewer, larger writes to the next service. The pieces are
    joined once (a growing bytearray copied out again costs two copies and a fresh allocation).

    The first bytes go on at once and nothing waits longer than ``flush_seconds``: the request to
    the next service (its headers leave with the first piece) then starts while the pooled
    connection is fresh, and that service never sees a silent connection for long. Waiting for a
    whole MiB of a 20 KiB/s upload held a pooled connection silent for ~50 s, past storage_ms's
    30 s keep-alive, which closed it under the request: a false 503."""
    pending: list[bytes] = []
    pending_size = 0
    flush_at = 0.0  # the first chunk goes at once
    async for chunk in chunks:
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= size or (pending_size and time.monotonic() >= flush_at):
            yield b"".join(pending)
            pending.clear()
            pending_size = 0
            flush_at = time.monotonic() + flush_seconds
    if pending_size:
        yield b"".join(pending)


async def arriving_body(request: Request, idle_seconds: float = BODY_IDLE_SECONDS) -> AsyncIterator[bytes]:
    """The body as it arrives, at any rate; 408 once nothing arrived for ``idle_seconds``."""
    chunks = aiter(request.stream())
    while True:
        try:
            async with asyncio.timeout(idle_seconds):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise RequestTimeout(
                f"the client sent nothing for {idle_seconds:.0f} s; nothing of this upload was stored"
            ) from exc
        yield chunk


def request_body(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a client that goes away or falls silent aborts the upload."""
    return coalesced(arriving_body(request))


async def _until_disconnect(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in arriving_body(request):
            yield chunk
    except ClientDisconnect:
        return
    except RequestTimeout:
        request.state.fell_silent = True  # the route answers 408 once what arrived is stored


def resumable_body(request: Request) -> AsyncIterator[bytes]:
    """The body of a resumable-upload request: if the client goes away or falls silent, what
    arrived still counts."""
    return coalesced(_until_disconnect(request))


def fell_silent(request: Request) -> bool:
    """Whether the resumable body ended because the client stopped sending."""
    return bool(getattr(request.state, "fell_silent", False))


def passed_on(answer: Encoded[Any]) -> Response:
    """An answer of metadata_ms as it encoded it (a listing), without parsing and encoding it again."""
    return Response(answer.json, media_type="application/json")
