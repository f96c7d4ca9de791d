from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime

from files_ms.api.deps import CurrentUser, Services, client_address
from liftbit_common.contracts import NewAccount, NewUser, NodeInfo, UserCreated, UserInfo, Username, UserStats
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 409, 422, 429, 503))
async def register(new_user: NewUser, request: Request, services: Services) -> UserCreated:
    """Create an account. The username is public and permanent; the password is stored hashed (argon2id).
    At most 20 registrations per client address and hour (429 with Retry-After beyond)."""
    account = NewAccount(**new_user.model_dump(), address=client_address(request))
    return await services.accounts.register(account)


@router.get("/{username}", responses=error_responses(401, 403, 404, 422, 503))
async def describe(username: Username, actor: CurrentUser, services: Services) -> UserInfo:
    """Your account: storage used, quota and number of files."""
    return await services.accounts.describe(actor, username)


@router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def delete_account(username: Username, actor: CurrentUser, services: Services) -> None:
    """Delete your account with all your files, their bytes, your grants and your tokens."""
    await services.accounts.delete(actor, username)


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
