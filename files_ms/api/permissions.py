from __future__ import annotations

from fastapi import APIRouter, Response, status

from files_ms.api.deps import CurrentUser, Services
from files_ms.api.deps import FilenamePath as Filename
from liftbit_common.contracts import Username
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/users/{owner}/files/{filename:path}/permissions", tags=["permissions"])


@router.get("", responses=error_responses(401, 403, 404, 422, 503))
async def list_grantees(owner: Username, filename: Filename, actor: CurrentUser, services: Services) -> list[str]:
    """Users you allowed to read this file or folder (a folder: everything below it)."""
    return await services.files.grantees(actor, owner, filename)


@router.put(
    "/{grantee}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def grant(owner: Username, filename: Filename, grantee: Username, actor: CurrentUser, services: Services) -> None:
    """Let `grantee` read this file, or everything below this folder (404 if the user or the path does not exist)."""
    await services.files.grant(actor, owner, filename, grantee)


@router.delete(
    "/{grantee}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def revoke(
    owner: Username, filename: Filename, grantee: Username, actor: CurrentUser, services: Services
) -> None:
    """Take back `grantee`'s right to download this file."""
    await services.files.revoke(actor, owner, filename, grantee)
