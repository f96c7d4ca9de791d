"""Typed calls to metadata_ms, over the routes liftbit_common.internal_api.metadata defines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    ApiTokenRequest,
    AuditEntry,
    CommitResult,
    DownloadRecord,
    FileCommit,
    FilePage,
    FolderResult,
    InviteInfo,
    InviteRequest,
    IssuedReset,
    IssuedToken,
    LinkAccess,
    LinkDownload,
    LinkRequest,
    LoginAttempt,
    MoveRequest,
    NewAccount,
    NewUpload,
    NodeInfo,
    NodePage,
    ObjectKeys,
    ObjectRef,
    PasswordChangeRequest,
    PlatformTotals,
    ProgressUpdate,
    RemovedAccount,
    RemovedObjects,
    ResetByHash,
    ResetRequest,
    ResolvedLink,
    Role,
    SessionInfo,
    StoredLink,
    StoredNode,
    StoredVersion,
    TokenOwner,
    TrashEntry,
    TrashPage,
    UploadAllowance,
    UploadLease,
    UploadState,
    UserCreated,
    UserInfo,
    VersionInfo,
)
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import Encoded
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

    async def remove_user(self, username: str) -> RemovedAccount:
        return await self.http.call(api.REMOVE_USER, username=username)

    async def issue_token(self, attempt: LoginAttempt) -> IssuedToken:
        return await self.http.call(api.ISSUE_TOKEN, attempt)

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        return await self.http.call(api.RESOLVE_TOKEN, token_hash=token_hash)

    async def revoke_token(self, token_hash: str) -> None:
        await self.http.call(api.REVOKE_TOKEN, token_hash=token_hash)

    async def change_password(self, username: str, change: PasswordChangeRequest) -> None:
        await self.http.call(api.CHANGE_PASSWORD, change, username=username)

    async def reset_password(self, reset: ResetByHash) -> UserCreated:
        return await self.http.call(api.RESET_PASSWORD, reset)

    async def sessions(self, username: str, current_hash: str) -> list[SessionInfo]:
        return await self.http.call(api.SESSIONS, api.CurrentTokenQuery(current=current_hash), username=username)

    async def revoke_session(self, username: str, session_id: str) -> None:
        await self.http.call(api.REVOKE_SESSION, username=username, session_id=session_id)

    async def revoke_sessions(self, username: str, keep_hash: str) -> None:
        await self.http.call(api.REVOKE_SESSIONS, api.CurrentTokenQuery(current=keep_hash), username=username)

    async def create_api_token(self, username: str, request: ApiTokenRequest) -> ApiTokenInfo:
        return await self.http.call(api.CREATE_API_TOKEN, request, username=username)

    async def api_tokens(self, username: str) -> list[ApiTokenInfo]:
        return await self.http.call(api.API_TOKENS, username=username)

    async def revoke_api_token(self, username: str, token_id: str) -> None:
        await self.http.call(api.REVOKE_API_TOKEN, username=username, token_id=token_id)

    async def admin_users(self) -> list[AdminUser]:
        return await self.http.call(api.ADMIN_USERS)

    async def set_quota(self, username: str, quota_bytes: int | None, actor: str) -> AdminUser:
        return await self.http.call(
            api.SET_QUOTA, api.QuotaAction(quota_bytes=quota_bytes, actor=actor), username=username
        )

    async def set_role(self, username: str, role: Role, actor: str) -> AdminUser:
        return await self.http.call(api.SET_ROLE, api.RoleAction(role=role, actor=actor), username=username)

    async def set_disabled(self, username: str, disabled: bool, actor: str) -> None:
        await self.http.call(api.SET_DISABLED, api.DisableAction(disabled=disabled, actor=actor), username=username)

    async def admin_remove_user(self, username: str, actor: str) -> RemovedAccount:
        return await self.http.call(api.ADMIN_REMOVE_USER, api.AdminAction(actor=actor), username=username)

    async def create_invite(self, request: InviteRequest) -> InviteInfo:
        return await self.http.call(api.CREATE_INVITE, request)

    async def issue_reset(self, username: str, request: ResetRequest) -> IssuedReset:
        return await self.http.call(api.ISSUE_RESET, request, username=username)

    async def audit(self, limit: int, before: int | None) -> list[AuditEntry]:
        return await self.http.call(api.AUDIT, api.AuditQuery(limit=limit, before=before))

    async def platform_totals(self) -> PlatformTotals:
        return await self.http.call(api.PLATFORM_TOTALS)

    async def list_files(
        self, owner: str, limit: int, cursor: str | None, *, prefix: str | None, query: str | None
    ) -> Encoded[FilePage]:
        request = api.FileListQuery(limit=limit, cursor=cursor, prefix=prefix, q=query)
        return await self.http.call_encoded(api.LIST_FILES, request, owner=owner)

    async def readable(self, owner: str, path: str, reader: str) -> StoredNode:
        return await self.http.call(api.READABLE, api.ReaderQuery(reader=reader), owner=owner, path=path)

    async def readable_by_id(self, node_id: str, reader: str) -> StoredNode:
        return await self.http.call(api.READABLE_BY_ID, api.ReaderQuery(reader=reader), node_id=node_id)

    async def upload_allowance(self, owner: str, path: str, *, keep_existing: bool = False) -> UploadAllowance:
        query = api.AllowanceQuery(path=path, keep_existing=keep_existing)
        return await self.http.call(api.UPLOAD_ALLOWANCE, query, username=owner)

    async def commit(self, owner: str, path: str, commit: FileCommit) -> CommitResult:
        return await self.http.call(api.COMMIT_FILE, commit, owner=owner, path=path)

    async def record_download(self, node_id: str, record: DownloadRecord) -> None:
        await self.http.call(api.RECORD_DOWNLOAD, record, node_id=node_id)

    async def make_folder(self, owner: str, path: str) -> FolderResult:
        return await self.http.call(api.MAKE_FOLDER, owner=owner, path=path)

    async def children(
        self, owner: str, path: str | None, reader: str, limit: int, cursor: str | None
    ) -> Encoded[NodePage]:
        request = api.ChildrenQuery(path=path, reader=reader, limit=limit, cursor=cursor)
        return await self.http.call_encoded(api.CHILDREN, request, owner=owner)

    async def move(self, owner: str, request: MoveRequest) -> NodeInfo:
        return await self.http.call(api.MOVE, request, owner=owner)

    async def trash(self, owner: str, path: str, kind: Literal["file", "folder"], actor: str) -> TrashEntry:
        return await self.http.call(api.TRASH, api.TrashQuery(type=kind, actor=actor), owner=owner, path=path)

    async def trash_page(self, owner: str, limit: int, cursor: str | None) -> TrashPage:
        return await self.http.call(api.TRASH_PAGE, api.PageQuery(limit=limit, cursor=cursor), owner=owner)

    async def restore(self, owner: str, entry_id: str, actor: str) -> NodeInfo:
        return await self.http.call(api.RESTORE, api.ActorQuery(actor=actor), owner=owner, entry_id=entry_id)

    async def purge(self, owner: str, entry_id: str | None, actor: str) -> RemovedObjects:
        if entry_id is None:
            return await self.http.call(api.EMPTY_TRASH, api.ActorQuery(actor=actor), owner=owner)
        return await self.http.call(api.PURGE, api.ActorQuery(actor=actor), owner=owner, entry_id=entry_id)

    async def purge_expired_trash(self, older_than_seconds: int) -> RemovedObjects:
        request = api.TrashRetentionQuery(older_than_seconds=older_than_seconds)
        return await self.http.call(api.PURGE_EXPIRED_TRASH, request)

    async def versions(self, node_id: str, reader: str) -> list[VersionInfo]:
        return await self.http.call(api.VERSIONS, api.ReaderQuery(reader=reader), node_id=node_id)

    async def version(self, node_id: str, number: int, reader: str) -> StoredVersion:
        return await self.http.call(api.VERSION, api.ReaderQuery(reader=reader), node_id=node_id, number=number)

    async def restore_version(self, node_id: str, number: int, actor: str) -> CommitResult:
        request = api.ActorQuery(actor=actor)
        return await self.http.call(api.RESTORE_VERSION, request, node_id=node_id, number=number)

    async def grantees(self, node_id: str, owner: str) -> list[str]:
        return await self.http.call(api.GRANTEES, api.OwnerQuery(owner=owner), node_id=node_id)

    async def grant(self, node_id: str, owner: str, grantee: str) -> None:
        await self.http.call(api.GRANT, api.OwnerQuery(owner=owner), node_id=node_id, grantee=grantee)

    async def revoke(self, node_id: str, owner: str, grantee: str) -> None:
        await self.http.call(api.REVOKE_GRANT, api.OwnerQuery(owner=owner), node_id=node_id, grantee=grantee)

    async def shared_with(self, username: str, query: str | None) -> list[NodeInfo]:
        return await self.http.call(api.SHARED_WITH, api.SharedQuery(q=query), username=username)

    async def create_link(self, node_id: str, request: LinkRequest) -> StoredLink:
        return await self.http.call(api.CREATE_LINK, request, node_id=node_id)

    async def links(self, node_id: str, owner: str, *, include_revoked: bool = False) -> list[StoredLink]:
        query = api.LinksQuery(owner=owner, include_revoked=include_revoked)
        return await self.http.call(api.LINKS, query, node_id=node_id)

    async def revoke_link(self, link_id: str, owner: str) -> None:
        await self.http.call(api.REVOKE_LINK, api.OwnerQuery(owner=owner), link_id=link_id)

    async def resolve_link(self, token_hash: str, access: LinkAccess) -> ResolvedLink:
        return await self.http.call(api.RESOLVE_LINK, access, token_hash=token_hash)

    async def record_link_download(self, link_id: str, download: LinkDownload) -> StoredLink:
        return await self.http.call(api.RECORD_LINK_DOWNLOAD, download, link_id=link_id)

    async def owned_nodes(self, owner: str, node_ids: Sequence[str]) -> list[NodeInfo]:
        return await self.http.call(api.OWNED_NODES, api.NodeIds(ids=list(node_ids)), owner=owner)

    async def create_upload(self, owner: str, new: NewUpload) -> UploadState:
        return await self.http.call(api.CREATE_UPLOAD, new, owner=owner)

    async def get_upload(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        return await self.http.call(api.GET_UPLOAD, owner=owner, upload_id=upload_id)

    async def advance_upload(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState:
        return await self.http.call(api.ADVANCE_UPLOAD, update, owner=owner, upload_id=upload_id)

    async def remove_upload(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        return await self.http.call(api.REMOVE_UPLOAD, owner=owner, upload_id=upload_id)

    async def lease_upload(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> UploadState:
        return await self.http.call(api.LEASE_UPLOAD, lease, owner=owner, upload_id=upload_id)

    async def release_upload(self, owner: str, upload_id: uuid.UUID, writer: uuid.UUID) -> None:
        await self.http.call(api.RELEASE_UPLOAD, owner=owner, upload_id=upload_id, writer=writer)

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
