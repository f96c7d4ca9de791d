from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime

from files_ms.api.deps import BearerToken, CurrentUser, Services, client_address
from liftbit_common.contracts import (
    ApiTokenInfo,
    CreatedApiToken,
    NewApiToken,
    NewUser,
    NodeInfo,
    PasswordChange,
    SessionInfo,
    UserCreated,
    UserInfo,
    Username,
    UserStats,
)
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 403, 404, 409, 410, 422, 429, 503))
async def register(new_user: NewUser, request: Request, services: Services) -> UserCreated:
    """Create an account. The username is public and permanent; the password is stored hashed (argon2id)
    and must not be one of the most common breached passwords. With REGISTRATION=invite an
    administrator's `invite` token is needed (403 without; 404 unknown; 410 used or expired);
    REGISTRATION=closed refuses every registration (403).
    At most 20 registrations per client address and hour (429 with Retry-After beyond)."""
    return await services.accounts.register(new_user, client_address(request))


@router.get("/{username}", responses=error_responses(401, 403, 404, 422, 503))
async def describe(username: Username, actor: CurrentUser, services: Services) -> UserInfo:
    """Your account: storage used, quota and number of files."""
    return await services.accounts.describe(actor, username)


@router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def delete_account(username: Username, actor: CurrentUser, services: Services) -> None:
    """Delete your account with all your files, their bytes, your grants and your tokens (409 for
    the last enabled administrator)."""
    await services.accounts.delete(actor, username)


# The 204 routes below: no body, and no response model in the spec.
NO_CONTENT: dict[str, Any] = {"status_code": status.HTTP_204_NO_CONTENT, "response_class": Response}


@router.post("/{username}/password", **NO_CONTENT, responses=error_responses(401, 403, 404, 422, 503))
async def change_password(
    username: Username, change: PasswordChange, actor: CurrentUser, token: BearerToken, services: Services
) -> None:
    """Change your password (403 `wrong_password` if `current_password` is not right). Every other
    session and API token of yours is revoked; the token of this request stays."""
    await services.accounts.change_password(actor, username, token or "", change)


@router.get("/{username}/sessions", responses=error_responses(401, 403, 404, 422, 503))
async def sessions(username: Username, actor: CurrentUser, token: BearerToken, services: Services) -> list[SessionInfo]:
    """Your live login sessions, newest first: created, last used (to the minute), client."""
    return await services.accounts.sessions(actor, username, token or "")


@router.delete("/{username}/sessions/{session_id}", **NO_CONTENT, responses=error_responses(401, 403, 404, 422, 503))
async def revoke_session(username: Username, session_id: str, actor: CurrentUser, services: Services) -> None:
    """End one of your sessions (its token stops working)."""
    await services.accounts.revoke_session(actor, username, session_id)


@router.delete("/{username}/sessions", **NO_CONTENT, responses=error_responses(401, 403, 404, 422, 503))
async def revoke_other_sessions(username: Username, actor: CurrentUser, token: BearerToken, services: Services) -> None:
    """End every session of yours but this one (`POST /auth/logout` ends this one); API tokens stay."""
    await services.accounts.revoke_other_sessions(actor, username, token or "")


@router.post(
    "/{username}/api-tokens", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 404, 422, 503)
)
async def create_api_token(
    username: Username, new: NewApiToken, actor: CurrentUser, services: Services
) -> CreatedApiToken:
    """A named token for scripts, the CLI and tus (`Authorization: Bearer …`), shown this once.
    Scope `read` may only GET/HEAD: any write, delete, share or link creation is 403 `read_only_token`."""
    return await services.accounts.create_api_token(actor, username, new)


@router.get("/{username}/api-tokens", responses=error_responses(401, 403, 404, 422, 503))
async def api_tokens(username: Username, actor: CurrentUser, services: Services) -> list[ApiTokenInfo]:
    """Your live API tokens (never the tokens themselves)."""
    return await services.accounts.api_tokens(actor, username)


@router.delete("/{username}/api-tokens/{token_id}", **NO_CONTENT, responses=error_responses(401, 403, 404, 422, 503))
async def revoke_api_token(username: Username, token_id: str, actor: CurrentUser, services: Services) -> None:
    """Revoke one of your API tokens."""
    await services.accounts.revoke_api_token(actor, username, token_id)


@router.get("/{username}/shared", responses=error_responses(401, 403, 422, 503))
async def shared_with_me(
    username: Username,
    actor: CurrentUser,
    services: Services,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            description="Search by a case-insensitive part of the name, inside shared folders too",
        ),
    ] = None,
) -> list[NodeInfo]:
    """Files and folders other users allow you to read (at most 1,000)."""
    return await services.files.shared_with(actor, username, q)


@router.get("/{username}/stats", responses=error_responses(401, 403, 422, 503))
async def user_stats(
    username: Username,
    actor: CurrentUser,
    services: Services,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows starting at or after this")] = None,
    until: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows ending at or before this")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many of the most downloaded files")] = 10,
) -> UserStats:
    """What your files served (downloads and bytes, through any way, share links included) in the
    5-minute windows inside [since, until], and your most downloaded files by their current path
    (null once in the trash or purged)."""
    return await services.stats.user_stats(actor, username, since, until, limit)
