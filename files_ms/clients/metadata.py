"""Typed calls to metadata_ms, over the routes liftbit_common.internal_api.metadata defines."""

from __future__ import annotations

import uuid

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
from liftbit_common.internal_api import metadata as api
from liftbit_common.service_client import ServiceClient


class MetadataClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def health_checks(self) -> dict[str, str]:
        return await self.http.health_checks()

    async def register(self, new_user: NewAccount) -> UserCreated:
        return await self.http.call(api.REGISTER, new_user)

    async def describe_user(self, username: str) -> UserInfo:
        return await self.http.call(api.DESCRIBE_USER, username=username)

    async def remove_user(self, username: str) -> RemovedObjects:
        return await self.http.call(api.REMOVE_USER, username=username)

    async def issue_token(self, attempt: LoginAttempt) -> IssuedToken:
        return await self.http.call(api.ISSUE_TOKEN, attempt)

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        return await self.http.call(api.RESOLVE_TOKEN, token_hash=token_hash)

    async def revoke_token(self, token_hash: str) -> None:
        await self.http.call(api.REVOKE_TOKEN, token_hash=token_hash)

    async def list_files(self, owner: str, limit: int, cursor: str | None) -> FilePage:
        return await self.http.call(api.LIST_FILES, api.FileListQuery(limit=limit, cursor=cursor), owner=owner)

    async def readable_file(self, owner: str, filename: str, reader: str) -> StoredFile:
        return await self.http.call(api.READABLE_FILE, api.ReaderQuery(reader=reader), owner=owner, filename=filename)

    async def upload_allowance(self, owner: str, filename: str) -> UploadAllowance:
        return await self.http.call(api.UPLOAD_ALLOWANCE, api.AllowanceQuery(filename=filename), username=owner)

    async def commit(self, owner: str, filename: str, commit: FileCommit) -> CommitResult:
        return await self.http.call(api.COMMIT_FILE, commit, owner=owner, filename=filename)

    async def delete_file(self, owner: str, filename: str, actor: str) -> ObjectRef:
        return await self.http.call(api.DELETE_FILE, api.ActorQuery(actor=actor), owner=owner, filename=filename)

    async def record_download(self, owner: str, filename: str, record: DownloadRecord) -> None:
        await self.http.call(api.RECORD_DOWNLOAD, record, owner=owner, filename=filename)

    async def grantees(self, owner: str, filename: str) -> list[str]:
        return await self.http.call(api.GRANTEES, owner=owner, filename=filename)

    async def grant(self, owner: str, filename: str, grantee: str) -> None:
        await self.http.call(api.GRANT, owner=owner, filename=filename, grantee=grantee)

    async def revoke(self, owner: str, filename: str, grantee: str) -> None:
        await self.http.call(api.REVOKE_GRANT, owner=owner, filename=filename, grantee=grantee)

    async def shared_with(self, username: str) -> list[FileInfo]:
        return await self.http.call(api.SHARED_WITH, username=username)

    async def create_upload(self, owner: str, new: NewUpload) -> UploadState:
        return await self.http.call(api.CREATE_UPLOAD, new, owner=owner)

    async def get_upload(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        return await self.http.call(api.GET_UPLOAD, owner=owner, upload_id=upload_id)

    async def advance_upload(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState:
        return await self.http.call(api.ADVANCE_UPLOAD, update, owner=owner, upload_id=upload_id)

    async def remove_upload(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        return await self.http.call(api.REMOVE_UPLOAD, owner=owner, upload_id=upload_id)

    async def due_deletions(self, limit: int) -> list[ObjectRef]:
        return await self.http.call(api.DUE_DELETIONS, api.DeletionsQuery(limit=limit))

    async def deletions_done(self, keys: list[str]) -> None:
        await self.http.call(api.DELETIONS_DONE, ObjectKeys(keys=keys))

    async def unreferenced(self, keys: list[str]) -> list[str]:
        return (await self.http.call(api.UNREFERENCED_OBJECTS, ObjectKeys(keys=keys))).keys

    async def multipart_in_use(self, upload_ids: list[str]) -> set[str]:
        return set((await self.http.call(api.MULTIPART_IN_USE, ObjectKeys(keys=upload_ids))).keys)

    async def expire(self) -> int:
        return (await self.http.call(api.EXPIRE_UPLOADS)).expired_uploads
