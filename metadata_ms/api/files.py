"""Files, folders, versions and grants; nodes are addressed by path within an owner, or by id."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FilePage,
    FilePath,
    FolderResult,
    MoveRequest,
    NodeInfo,
    NodePage,
    RemovedObjects,
    StoredNode,
    StoredVersion,
    TrashEntry,
    TrashPage,
    UploadAllowance,
    Username,
    VersionInfo,
)
from metadata_ms.api.deps import Services

router = APIRouter(tags=["files"])

PathQuery = Annotated[FilePath, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/users/{owner}/files")
async def list_files(
    owner: Username,
    services: Services,
    limit: Limit = 100,
    cursor: str | None = None,
    prefix: Annotated[FilePath | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=255)] = None,
) -> FilePage:
    return await services.catalog.list_files(owner, limit, cursor, prefix=prefix, query=q)


@router.get("/users/{owner}/allowance")
async def upload_allowance(owner: Username, path: PathQuery, services: Services) -> UploadAllowance:
    return await services.catalog.upload_allowance(owner, path)


@router.get("/users/{owner}/nodes")
async def readable(owner: Username, path: PathQuery, reader: Annotated[str, Query()], services: Services) -> StoredNode:
    return await services.catalog.readable(owner, path, reader)


@router.put("/users/{owner}/nodes")
async def commit(
    owner: Username, path: PathQuery, body: FileCommit, services: Services, response: Response
) -> CommitResult:
    result = await services.catalog.commit(owner, path, body)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@router.put("/users/{owner}/folders")
async def make_folder(owner: Username, path: PathQuery, services: Services, response: Response) -> FolderResult:
    result = await services.tree.make_folder(owner, path)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@router.get("/users/{owner}/children")
async def children(
    owner: Username,
    reader: Annotated[str, Query()],
    services: Services,
    path: Annotated[FilePath | None, Query()] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> NodePage:
    return await services.tree.children(owner, path, reader, limit, cursor)


@router.post("/users/{owner}/move")
async def move(owner: Username, body: MoveRequest, services: Services) -> NodeInfo:
    return await services.tree.move(owner, body)


@router.post("/users/{owner}/trash")
async def trash(
    owner: Username,
    path: PathQuery,
    type: Annotated[Literal["file", "folder"], Query()],
    actor: Annotated[str, Query()],
    services: Services,
) -> TrashEntry:
    return await services.tree.trash(owner, path, type, actor)


@router.get("/users/{owner}/trash")
async def trash_page(owner: Username, services: Services, limit: Limit = 100, cursor: str | None = None) -> TrashPage:
    return await services.tree.trash_page(owner, limit, cursor)


@router.post("/users/{owner}/trash/{entry_id}/restore")
async def restore(owner: Username, entry_id: str, actor: Annotated[str, Query()], services: Services) -> NodeInfo:
    return await services.tree.restore(owner, entry_id, actor)


@router.delete("/users/{owner}/trash/{entry_id}")
async def purge(owner: Username, entry_id: str, actor: Annotated[str, Query()], services: Services) -> RemovedObjects:
    return await services.tree.purge(owner, entry_id, actor)


@router.delete("/users/{owner}/trash")
async def empty_trash(owner: Username, actor: Annotated[str, Query()], services: Services) -> RemovedObjects:
    return await services.tree.purge(owner, None, actor)


@router.get("/users/{owner}/shared")
async def shared_with(
    owner: Username, services: Services, q: Annotated[str | None, Query(max_length=255)] = None, limit: Limit = 1000
) -> list[NodeInfo]:
    return await services.catalog.shared_with(owner, q, limit)


@router.get("/nodes/{node_id}")
async def readable_by_id(node_id: str, reader: Annotated[str, Query()], services: Services) -> StoredNode:
    return await services.catalog.readable_by_id(node_id, reader)


@router.post("/nodes/{node_id}/downloads", status_code=status.HTTP_204_NO_CONTENT)
async def record_download(node_id: str, body: DownloadRecord, services: Services) -> None:
    await services.catalog.record_download(node_id, body)


@router.get("/nodes/{node_id}/versions")
async def versions(node_id: str, reader: Annotated[str, Query()], services: Services) -> list[VersionInfo]:
    return await services.catalog.versions(node_id, reader)


@router.get("/nodes/{node_id}/versions/{number}")
async def version(node_id: str, number: int, reader: Annotated[str, Query()], services: Services) -> StoredVersion:
    return await services.catalog.version(node_id, number, reader)


@router.post("/nodes/{node_id}/versions/{number}/restore")
async def restore_version(
    node_id: str, number: int, actor: Annotated[str, Query()], services: Services
) -> CommitResult:
    return await services.catalog.restore_version(node_id, number, actor)


@router.get("/nodes/{node_id}/grants")
async def grantees(node_id: str, owner: Annotated[str, Query()], services: Services) -> list[str]:
    return await services.catalog.grantees(node_id, owner)


@router.put("/nodes/{node_id}/grants/{grantee}", status_code=status.HTTP_204_NO_CONTENT)
async def grant(node_id: str, grantee: Username, owner: Annotated[str, Query()], services: Services) -> None:
    await services.catalog.grant(node_id, owner, grantee)


@router.delete("/nodes/{node_id}/grants/{grantee}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(node_id: str, grantee: Username, owner: Annotated[str, Query()], services: Services) -> None:
    await services.catalog.revoke(node_id, owner, grantee)
