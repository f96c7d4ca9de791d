"""Files and folders by their stable id: info, permissions, versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import AwareDatetime

from files_ms.api.deps import ByteReader, CurrentUser, Services, public_base_url
from files_ms.api.files import DownloadConditions, download_response
from liftbit_common.contracts import (
    CreatedLink,
    FileInfo,
    LinkInfo,
    NewLink,
    NodeInfo,
    NodeStats,
    Username,
    VersionInfo,
)
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/files/{file_id}", tags=["files by id"])

FileId = Annotated[str, Path(description="The id in FileInfo/FolderInfo", examples=["42"])]
VersionNumber = Annotated[int, Path(ge=1)]
ID_ERRORS = error_responses(401, 403, 404, 422, 503)


@router.get("", responses=ID_ERRORS)
async def describe(file_id: FileId, actor: CurrentUser, services: Services) -> NodeInfo:
    """The FileInfo or FolderInfo of a file or folder you own or may read."""
    return await services.tree.describe(actor, file_id)


@router.get("/permissions", responses=ID_ERRORS)
async def list_grantees(file_id: FileId, actor: CurrentUser, services: Services) -> list[str]:
    """Users you allowed to read this file, or everything below this folder."""
    return await services.tree.grantees(actor, file_id)


@router.put(
    "/permissions/{grantee}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=ID_ERRORS
)
async def grant(file_id: FileId, grantee: Username, actor: CurrentUser, services: Services) -> None:
    """Let `grantee` read it; on a folder, everything below it, files added later included."""
    await services.tree.grant(actor, file_id, grantee)


@router.delete(
    "/permissions/{grantee}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=ID_ERRORS
)
async def revoke(file_id: FileId, grantee: Username, actor: CurrentUser, services: Services) -> None:
    """Take the grant back, at once."""
    await services.tree.revoke(actor, file_id, grantee)


@router.get("/versions", responses=ID_ERRORS)
async def versions(file_id: FileId, actor: CurrentUser, services: Services) -> list[VersionInfo]:
    """The file's contents, newest first, the current one included (FILE_VERSIONS_KEPT of them)."""
    return await services.tree.versions(actor, file_id)


@router.get(
    "/versions/{version}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "That version's bytes"},
        206: {"description": "The requested range"},
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(401, 404, 412, 416, 422, 503),
    },
)
async def download_version(
    file_id: FileId,
    version: VersionNumber,
    actor: ByteReader,
    services: Services,
    conditions: DownloadConditions,
) -> Response:
    """Download one version of a file you own or may read, as the current one downloads."""
    return download_response(await services.tree.download_version(actor, file_id, version, conditions))


@router.post("/versions/{version}/restore", responses=ID_ERRORS)
async def restore_version(file_id: FileId, version: VersionNumber, actor: CurrentUser, services: Services) -> FileInfo:
    """Make that version's content current again, as a new version (nothing is lost)."""
    return (await services.tree.restore_version(actor, file_id, version)).file


@router.post("/links", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 404, 422, 503))
async def create_link(
    file_id: FileId, new: NewLink, request: Request, actor: CurrentUser, services: Services
) -> CreatedLink:
    """A share link for people without an account: optional expiry, password and download limit;
    `upload_only` (folders) makes it a file request. The `token` (and the `url` holding it) is shown
    in this answer only: LiftBit keeps only its hash."""
    return await services.links.create(actor, file_id, new, public_base_url(request, services.public_url))


@router.get("/links", responses=ID_ERRORS)
async def list_links(file_id: FileId, actor: CurrentUser, services: Services) -> list[LinkInfo]:
    """This file's or folder's links that were not revoked (expired and used-up ones too), with
    their download counts; newest first. Their tokens are not shown again."""
    return await services.links.links(actor, file_id)


@router.get("/stats", responses=error_responses(401, 403, 404, 422, 503))
async def node_stats(
    file_id: FileId,
    actor: CurrentUser,
    services: Services,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows starting at or after this")] = None,
    until: Annotated[AwareDatetime | None, Query(description="RFC 3339; windows ending at or before this")] = None,
) -> NodeStats:
    """Downloads of this file in the 5-minute windows inside [since, until] (by you, grantees and
    link recipients; totals, per window, per link, with each link's distinct addresses and leak
    alert), or for a folder the downloads through its links. Counted by the analytics job: a
    download shows here within the trigger interval (seconds)."""
    return await services.stats.node_stats(actor, file_id, since, until)
