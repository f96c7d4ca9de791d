"""Typed calls to metadata_ms."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from liftbit_common.contracts import (
    CommitResult,
    Credentials,
    DownloadRecord,
    FileCommit,
    FilePage,
    FolderResult,
    IssuedToken,
    MoveRequest,
    NewUpload,
    NewUser,
    NodeInfo,
    NodePage,
    ObjectKeys,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    StoredNode,
    StoredVersion,
    TokenOwner,
    TrashEntry,
    TrashPage,
    UploadAllowance,
    UploadState,
    UserCreated,
    UserInfo,
    VersionInfo,
)
from liftbit_common.service_client import ServiceClient


def _node_path(node_id: str) -> str:
    return f"/nodes/{quote(node_id, safe='')}"


def _present(**params: str | int | None) -> dict[str, str | int]:
    """Query parameters without the ones not given."""
    return {name: value for name, value in params.items() if value is not None}


class MetadataClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def register(self, new_user: NewUser) -> UserCreated:
        return await self.http.fetch(UserCreated, "POST", "/users", json=new_user.model_dump())

    async def describe_user(self, username: str) -> UserInfo:
        return await self.http.fetch(UserInfo, "GET", f"/users/{username}")

    async def remove_user(self, username: str) -> RemovedObjects:
        return await self.http.fetch(RemovedObjects, "DELETE", f"/users/{username}")

    async def issue_token(self, credentials: Credentials) -> IssuedToken:
        return await self.http.fetch(IssuedToken, "POST", "/tokens", json=credentials.model_dump())

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        return await self.http.fetch(TokenOwner, "GET", f"/tokens/{token_hash}")

    async def revoke_token(self, token_hash: str) -> None:
        await self.http.call("DELETE", f"/tokens/{token_hash}")

    async def list_files(
        self, owner: str, limit: int, cursor: str | None, *, prefix: str | None, query: str | None
    ) -> FilePage:
        params = _present(limit=limit, cursor=cursor, prefix=prefix, q=query)
        return await self.http.fetch(FilePage, "GET", f"/users/{owner}/files", params=params)

    async def readable(self, owner: str, path: str, reader: str) -> StoredNode:
        params = {"path": path, "reader": reader}
        return await self.http.fetch(StoredNode, "GET", f"/users/{owner}/nodes", params=params)

    async def readable_by_id(self, node_id: str, reader: str) -> StoredNode:
        return await self.http.fetch(StoredNode, "GET", _node_path(node_id), params={"reader": reader})

    async def upload_allowance(self, owner: str, path: str) -> UploadAllowance:
        return await self.http.fetch(UploadAllowance, "GET", f"/users/{owner}/allowance", params={"path": path})

    async def commit(self, owner: str, path: str, commit: FileCommit) -> CommitResult:
        return await self.http.fetch(
            CommitResult, "PUT", f"/users/{owner}/nodes", params={"path": path}, json=commit.model_dump(mode="json")
        )

    async def record_download(self, node_id: str, record: DownloadRecord) -> None:
        await self.http.call("POST", f"{_node_path(node_id)}/downloads", json=record.model_dump())

    async def make_folder(self, owner: str, path: str) -> FolderResult:
        return await self.http.fetch(FolderResult, "PUT", f"/users/{owner}/folders", params={"path": path})

    async def children(self, owner: str, path: str | None, reader: str, limit: int, cursor: str | None) -> NodePage:
        params = _present(path=path, reader=reader, limit=limit, cursor=cursor)
        return await self.http.fetch(NodePage, "GET", f"/users/{owner}/children", params=params)

    async def move(self, owner: str, request: MoveRequest) -> NodeInfo:
        body = request.model_dump(mode="json", by_alias=True)
        return await self.http.fetch(NodeInfo, "POST", f"/users/{owner}/move", json=body)  # type: ignore[arg-type]

    async def trash(self, owner: str, path: str, kind: str, actor: str) -> TrashEntry:
        params = {"path": path, "type": kind, "actor": actor}
        return await self.http.fetch(TrashEntry, "POST", f"/users/{owner}/trash", params=params)

    async def trash_page(self, owner: str, limit: int, cursor: str | None) -> TrashPage:
        params = _present(limit=limit, cursor=cursor)
        return await self.http.fetch(TrashPage, "GET", f"/users/{owner}/trash", params=params)

    async def restore(self, owner: str, entry_id: str, actor: str) -> NodeInfo:
        path = f"/users/{owner}/trash/{quote(entry_id, safe='')}/restore"
        return await self.http.fetch(NodeInfo, "POST", path, params={"actor": actor})  # type: ignore[arg-type]

    async def purge(self, owner: str, entry_id: str | None, actor: str) -> RemovedObjects:
        path = f"/users/{owner}/trash" + (f"/{quote(entry_id, safe='')}" if entry_id is not None else "")
        return await self.http.fetch(RemovedObjects, "DELETE", path, params={"actor": actor})

    async def purge_expired_trash(self, older_than_seconds: int) -> RemovedObjects:
        params = {"older_than_seconds": older_than_seconds}
        return await self.http.fetch(RemovedObjects, "POST", "/maintenance/purge-trash", params=params)

    async def versions(self, node_id: str, reader: str) -> list[VersionInfo]:
        path = f"{_node_path(node_id)}/versions"
        return await self.http.fetch(list[VersionInfo], "GET", path, params={"reader": reader})

    async def version(self, node_id: str, number: int, reader: str) -> StoredVersion:
        path = f"{_node_path(node_id)}/versions/{number}"
        return await self.http.fetch(StoredVersion, "GET", path, params={"reader": reader})

    async def restore_version(self, node_id: str, number: int, actor: str) -> CommitResult:
        path = f"{_node_path(node_id)}/versions/{number}/restore"
        return await self.http.fetch(CommitResult, "POST", path, params={"actor": actor})

    async def grantees(self, node_id: str, owner: str) -> list[str]:
        return await self.http.fetch(list[str], "GET", f"{_node_path(node_id)}/grants", params={"owner": owner})

    async def grant(self, node_id: str, owner: str, grantee: str) -> None:
        await self.http.call("PUT", f"{_node_path(node_id)}/grants/{grantee}", params={"owner": owner})

    async def revoke(self, node_id: str, owner: str, grantee: str) -> None:
        await self.http.call("DELETE", f"{_node_path(node_id)}/grants/{grantee}", params={"owner": owner})

    async def shared_with(self, username: str, query: str | None) -> list[NodeInfo]:
        params = _present(q=query)
        return await self.http.fetch(list[NodeInfo], "GET", f"/users/{username}/shared", params=params)

    async def create_upload(self, owner: str, new: NewUpload) -> UploadState:
        path = f"/users/{owner}/uploads"
        return await self.http.fetch(UploadState, "POST", path, json=new.model_dump(mode="json"))

    async def get_upload(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        return await self.http.fetch(UploadState, "GET", f"/users/{owner}/uploads/{upload_id}")

    async def advance_upload(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState:
        path = f"/users/{owner}/uploads/{upload_id}"
        return await self.http.fetch(UploadState, "PATCH", path, json=update.model_dump(mode="json"))

    async def remove_upload(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        return await self.http.fetch(RemovedObjects, "DELETE", f"/users/{owner}/uploads/{upload_id}")

    async def due_deletions(self, limit: int) -> list[ObjectRef]:
        return await self.http.fetch(list[ObjectRef], "GET", "/object-deletions", params={"limit": limit})

    async def deletions_done(self, keys: list[str]) -> None:
        await self.http.call("POST", "/object-deletions/done", json={"keys": keys})

    async def unreferenced(self, keys: list[str]) -> list[str]:
        return (await self.http.fetch(ObjectKeys, "POST", "/objects/unreferenced", json={"keys": keys})).keys

    async def multipart_in_use(self, upload_ids: list[str]) -> set[str]:
        in_use = await self.http.fetch(ObjectKeys, "POST", "/multipart-uploads/in-use", json={"keys": upload_ids})
        return set(in_use.keys)

    async def expire(self) -> int:
        return int((await self.http.call("POST", "/maintenance/expire")).json()["expired_uploads"])
