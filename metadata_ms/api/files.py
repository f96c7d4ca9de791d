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
from metadata_ms.api.deps import Services

router = APIRouter(prefix="/users/{owner}/files", tags=["files"])


@router.get("")
async def list_files(
    owner: Username,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> FilePage:
    return await services.catalog.list_files(owner, limit, cursor)


@router.get("/{filename}")
async def readable_file(
    owner: Username, filename: Filename, reader: Annotated[str, Query()], services: Services
) -> StoredFile:
    return await services.catalog.readable_file(owner, filename, reader)


@router.put("/{filename}")
async def commit(
    owner: Username, filename: Filename, body: FileCommit, services: Services, response: Response
) -> CommitResult:
    result = await services.catalog.commit(owner, filename, body)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@router.delete("/{filename}")
async def delete(owner: Username, filename: Filename, actor: Annotated[str, Query()], services: Services) -> ObjectRef:
    return await services.catalog.delete(owner, filename, actor)


@router.post("/{filename}/downloads", status_code=status.HTTP_204_NO_CONTENT)
async def record_download(owner: Username, filename: Filename, body: DownloadRecord, services: Services) -> None:
    await services.catalog.record_download(owner, filename, body)


@router.get("/{filename}/grants")
async def grantees(owner: Username, filename: Filename, services: Services) -> list[str]:
    return await services.catalog.grantees(owner, filename)


@router.put("/{filename}/grants/{grantee}", status_code=status.HTTP_204_NO_CONTENT)
async def grant(owner: Username, filename: Filename, grantee: Username, services: Services) -> None:
    await services.catalog.grant(owner, filename, grantee)


@router.delete("/{filename}/grants/{grantee}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(owner: Username, filename: Filename, grantee: Username, services: Services) -> None:
    await services.catalog.revoke(owner, filename, grantee)
