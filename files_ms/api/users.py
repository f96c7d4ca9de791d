from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from files_ms.api.deps import CurrentUser, Services
from liftbit_common.contracts import NewUser, NodeInfo, UserCreated, UserInfo, Username
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(409, 422, 503))
async def register(new_user: NewUser, services: Services) -> UserCreated:
    """Create an account. The username is public and permanent; the password is stored hashed (argon2id)."""
    return await services.accounts.register(new_user)


@router.get("/{username}", responses=error_responses(401, 403, 404, 422, 503))
async def describe(username: Username, actor: CurrentUser, services: Services) -> UserInfo:
    """Your account: storage used, quota and number of files."""
    return await services.accounts.describe(actor, username)


@router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 503),
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
