"""The file tree: files, folders, trash, versions and grants, by path within an owner or by id."""

from __future__ import annotations

from typing import Annotated

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
    Username,
    VersionInfo,
)
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["files"])


def created_or_200(response: Response, created: bool) -> None:
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


@serve(router, api.LIST_FILES)
async def list_files(owner: Username, query: Annotated[api.FileListQuery, Query()], services: Services) -> FilePage:
    return await services.catalog.list_files(owner, query.limit, query.cursor, prefix=query.prefix, query=query.q)


@serve(router, api.READABLE)
async def readable(
    owner: Username, path: FilePath, query: Annotated[api.ReaderQuery, Query()], services: Services
) -> StoredNode:
    return await services.catalog.readable(owner, path, query.reader)


@serve(router, api.COMMIT_FILE)
async def commit(
    owner: Username, path: FilePath, body: FileCommit, services: Services, response: Response
) -> CommitResult:
    result = await services.catalog.commit(owner, path, body)
    created_or_200(response, result.created)
    return result


@serve(router, api.TRASH)
async def trash(
    owner: Username, path: FilePath, query: Annotated[api.TrashQuery, Query()], services: Services
) -> TrashEntry:
    return await services.tree.trash(owner, path, query.type, query.actor)


@serve(router, api.MAKE_FOLDER)
async def make_folder(owner: Username, path: FilePath, services: Services, response: Response) -> FolderResult:
    result = await services.tree.make_folder(owner, path)
    created_or_200(response, result.created)
    return result


@serve(router, api.CHILDREN)
async def children(owner: Username, query: Annotated[api.ChildrenQuery, Query()], services: Services) -> NodePage:
    return await services.tree.children(owner, query.path, query.reader, query.limit, query.cursor)


@serve(router, api.MOVE)
async def move(owner: Username, body: MoveRequest, services: Services) -> NodeInfo:
    return await services.tree.move(owner, body)


@serve(router, api.TRASH_PAGE)
async def trash_page(owner: Username, query: Annotated[api.PageQuery, Query()], services: Services) -> TrashPage:
    return await services.tree.trash_page(owner, query.limit, query.cursor)


@serve(router, api.RESTORE)
async def restore(
    owner: Username, entry_id: str, query: Annotated[api.ActorQuery, Query()], services: Services
) -> NodeInfo:
    return await services.tree.restore(owner, entry_id, query.actor)


@serve(router, api.PURGE)
async def purge(
    owner: Username, entry_id: str, query: Annotated[api.ActorQuery, Query()], services: Services
) -> RemovedObjects:
    return await services.tree.purge(owner, entry_id, query.actor)


@serve(router, api.EMPTY_TRASH)
async def empty_trash(owner: Username, query: Annotated[api.ActorQuery, Query()], services: Services) -> RemovedObjects:
    return await services.tree.purge(owner, None, query.actor)


@serve(router, api.READABLE_BY_ID)
async def readable_by_id(node_id: str, query: Annotated[api.ReaderQuery, Query()], services: Services) -> StoredNode:
    return await services.catalog.readable_by_id(node_id, query.reader)


@serve(router, api.RECORD_DOWNLOAD)
async def record_download(node_id: str, body: DownloadRecord, services: Services) -> None:
    await services.catalog.record_download(node_id, body)


@serve(router, api.VERSIONS)
async def versions(node_id: str, query: Annotated[api.ReaderQuery, Query()], services: Services) -> list[VersionInfo]:
    return await services.catalog.versions(node_id, query.reader)


@serve(router, api.VERSION)
async def version(
    node_id: str, number: int, query: Annotated[api.ReaderQuery, Query()], services: Services
) -> StoredVersion:
    return await services.catalog.version(node_id, number, query.reader)


@serve(router, api.RESTORE_VERSION)
async def restore_version(
    node_id: str, number: int, query: Annotated[api.ActorQuery, Query()], services: Services
) -> CommitResult:
    return await services.catalog.restore_version(node_id, number, query.actor)


@serve(router, api.GRANTEES)
async def grantees(node_id: str, query: Annotated[api.OwnerQuery, Query()], services: Services) -> list[str]:
    return await services.catalog.grantees(node_id, query.owner)


@serve(router, api.GRANT)
async def grant(node_id: str, grantee: Username, query: Annotated[api.OwnerQuery, Query()], services: Services) -> None:
    await services.catalog.grant(node_id, query.owner, grantee)


@serve(router, api.REVOKE_GRANT)
async def revoke(
    node_id: str, grantee: Username, query: Annotated[api.OwnerQuery, Query()], services: Services
) -> None:
    await services.catalog.revoke(node_id, query.owner, grantee)
