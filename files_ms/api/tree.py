"""Folders, move and rename, and the trash, in a user's namespace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from files_ms.api.deps import CurrentUser, FilenamePath, Services, passed_on
from liftbit_common.contracts import FolderInfo, Move, NodeInfo, NodePage, TrashPage, Username
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/users/{username}", tags=["folders and trash"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@router.get("/folders", response_model=NodePage, responses=error_responses(401, 403, 404, 422, 503))
async def list_top(
    username: Username, actor: CurrentUser, services: Services, limit: Limit = 100, cursor: Cursor = None
) -> Response:
    """The files and folders at the top of your namespace, by name, a page at a time."""
    return passed_on(await services.tree.children(actor, username, None, limit, cursor))


@router.put(
    "/folders/{path:path}",
    status_code=status.HTTP_201_CREATED,
    response_model=FolderInfo,
    responses={
        200: {"model": FolderInfo, "description": "It existed already"},
        **error_responses(401, 403, 409, 422, 503),
    },
)
async def make_folder(username: Username, path: FilenamePath, actor: CurrentUser, services: Services) -> JSONResponse:
    """Create a folder (and any missing folder above it): 201, or 200 if it exists; 409 if a file is in the way."""
    result = await services.tree.make_folder(actor, username, path)
    return JSONResponse(
        result.folder.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
    )


@router.get("/folders/{path:path}", response_model=NodePage, responses=error_responses(401, 404, 409, 422, 503))
async def list_folder(
    username: Username,
    path: FilenamePath,
    actor: CurrentUser,
    services: Services,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """The files and folders directly inside a folder you own or were granted (or a folder above it)."""
    return passed_on(await services.tree.children(actor, username, path, limit, cursor))


@router.delete(
    "/folders/{path:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def delete_folder(username: Username, path: FilenamePath, actor: CurrentUser, services: Services) -> None:
    """Move the folder, with everything below it, to the trash."""
    await services.tree.delete_folder(actor, username, path)


@router.post("/move", responses=error_responses(401, 403, 404, 409, 422, 503))
async def move(username: Username, body: Move, actor: CurrentUser, services: Services) -> NodeInfo:
    """Move or rename a file or folder (`{"from": "a/b.txt", "to": "c/b.txt"}`); missing folders of
    `to` are created. Only metadata changes: grants, versions and the id go with it. 409 if `to`
    exists, 422 for a folder into itself."""
    return await services.tree.move(actor, username, body)


@router.get("/trash", responses=error_responses(401, 403, 422, 503))
async def trash(
    username: Username, actor: CurrentUser, services: Services, limit: Limit = 100, cursor: Cursor = None
) -> TrashPage:
    """What you deleted, most recent first, with its original path. The trash counts toward your
    quota, and entries older than TRASH_RETENTION_DAYS are purged automatically."""
    return await services.tree.trash_page(actor, username, limit, cursor)


@router.post("/trash/{entry_id}/restore", responses=error_responses(401, 403, 404, 409, 422, 503))
async def restore(username: Username, entry_id: str, actor: CurrentUser, services: Services) -> NodeInfo:
    """Put it back at its original path (re-creating folders above it); 409 if the path is taken."""
    return await services.tree.restore(actor, username, entry_id)


@router.delete(
    "/trash/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def purge(username: Username, entry_id: str, actor: CurrentUser, services: Services) -> None:
    """Delete one trash entry for good, with its versions and bytes."""
    await services.tree.purge(actor, username, entry_id)


@router.delete(
    "/trash",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 422, 503),
)
async def empty_trash(username: Username, actor: CurrentUser, services: Services) -> None:
    """Empty the trash."""
    await services.tree.purge(actor, username, None)
