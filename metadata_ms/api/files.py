from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    Filename,
    FilePage,
    ObjectRef,
    StoredFile,
    Username,
)
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["files"])


@serve(router, api.LIST_FILES)
async def list_files(owner: Username, query: Annotated[api.FileListQuery, Query()], services: Services) -> FilePage:
    return await services.catalog.list_files(owner, query.limit, query.cursor)


@serve(router, api.READABLE_FILE)
async def readable_file(
    owner: Username, filename: Filename, query: Annotated[api.ReaderQuery, Query()], services: Services
) -> StoredFile:
    return await services.catalog.readable_file(owner, filename, query.reader)


@serve(router, api.COMMIT_FILE)
async def commit(
    owner: Username, filename: Filename, body: FileCommit, services: Services, response: Response
) -> CommitResult:
    result = await services.catalog.commit(owner, filename, body)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@serve(router, api.DELETE_FILE)
async def delete(
    owner: Username, filename: Filename, query: Annotated[api.ActorQuery, Query()], services: Services
) -> ObjectRef:
    return await services.catalog.delete(owner, filename, query.actor)


@serve(router, api.RECORD_DOWNLOAD)
async def record_download(owner: Username, filename: Filename, body: DownloadRecord, services: Services) -> None:
    await services.catalog.record_download(owner, filename, body)


@serve(router, api.GRANTEES)
async def grantees(owner: Username, filename: Filename, services: Services) -> list[str]:
    return await services.catalog.grantees(owner, filename)


@serve(router, api.GRANT)
async def grant(owner: Username, filename: Filename, grantee: Username, services: Services) -> None:
    await services.catalog.grant(owner, filename, grantee)


@serve(router, api.REVOKE_GRANT)
async def revoke(owner: Username, filename: Filename, grantee: Username, services: Services) -> None:
    await services.catalog.revoke(owner, filename, grantee)
