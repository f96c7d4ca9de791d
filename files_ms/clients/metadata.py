"""Typed calls to metadata_ms."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FileInfo,
    FilePage,
    IssuedToken,
    LoginAttempt,
    NewAccount,
    NewUpload,
    ObjectKeys,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    StoredFile,
    TokenOwner,
    UploadAllowance,
    UploadState,
    UserCreated,
    UserInfo,
)
from liftbit_common.service_client import ServiceClient


def _file_path(owner: str, filename: str) -> str:
    return f"/users/{owner}/files/{quote(filename, safe='')}"


class MetadataClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def register(self, new_user: NewAccount) -> UserCreated:
        return await self.http.fetch(UserCreated, "POST", "/users", json=new_user.model_dump())

    async def describe_user(self, username: str) -> UserInfo:
        return await self.http.fetch(UserInfo, "GET", f"/users/{username}")

    async def remove_user(self, username: str) -> RemovedObjects:
        return await self.http.fetch(RemovedObjects, "DELETE", f"/users/{username}")

    async def issue_token(self, attempt: LoginAttempt) -> IssuedToken:
        return await self.http.fetch(IssuedToken, "POST", "/tokens", json=attempt.model_dump())

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        return await self.http.fetch(TokenOwner, "GET", f"/tokens/{token_hash}")

    async def revoke_token(self, token_hash: str) -> None:
        await self.http.call("DELETE", f"/tokens/{token_hash}")

    async def list_files(self, owner: str, limit: int, cursor: str | None) -> FilePage:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        return await self.http.fetch(FilePage, "GET", f"/users/{owner}/files", params=params)

    async def readable_file(self, owner: str, filename: str, reader: str) -> StoredFile:
        return await self.http.fetch(StoredFile, "GET", _file_path(owner, filename), params={"reader": reader})

    async def upload_allowance(self, owner: str, filename: str) -> UploadAllowance:
        path = f"/users/{owner}/allowance"
        return await self.http.fetch(UploadAllowance, "GET", path, params={"filename": filename})

    async def commit(self, owner: str, filename: str, commit: FileCommit) -> CommitResult:
        path = _file_path(owner, filename)
        return await self.http.fetch(CommitResult, "PUT", path, json=commit.model_dump(mode="json"))

    async def delete_file(self, owner: str, filename: str, actor: str) -> ObjectRef:
        return await self.http.fetch(ObjectRef, "DELETE", _file_path(owner, filename), params={"actor": actor})

    async def record_download(self, owner: str, filename: str, record: DownloadRecord) -> None:
        await self.http.call("POST", f"{_file_path(owner, filename)}/downloads", json=record.model_dump())

    async def grantees(self, owner: str, filename: str) -> list[str]:
        return await self.http.fetch(list[str], "GET", f"{_file_path(owner, filename)}/grants")

    async def grant(self, owner: str, filename: str, grantee: str) -> None:
        await self.http.call("PUT", f"{_file_path(owner, filename)}/grants/{grantee}")

    async def revoke(self, owner: str, filename: str, grantee: str) -> None:
        await self.http.call("DELETE", f"{_file_path(owner, filename)}/grants/{grantee}")

    async def shared_with(self, username: str) -> list[FileInfo]:
        return await self.http.fetch(list[FileInfo], "GET", f"/users/{username}/shared")

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
