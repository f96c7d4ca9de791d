"""What files_ms's domain services need from the other services. The HTTP clients beside this
module implement these over the internal routes; tests/support/fakes.py implements them in memory."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Sequence
from datetime import datetime
from typing import Literal, Protocol

from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    ApiTokenRequest,
    AppendedParts,
    AuditEntry,
    CommitResult,
    DownloadRecord,
    DownloadWindow,
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
    NodeStats,
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
    StaleMultipartUpload,
    StaleObjects,
    StoredLink,
    StoredNode,
    StoredVersion,
    TokenOwner,
    TrashEntry,
    TrashPage,
    UploadAllowance,
    UploadLease,
    UploadPart,
    UploadState,
    UserCreated,
    UserInfo,
    UserStats,
    VersionInfo,
    WrittenObject,
)
from liftbit_common.internal_api.route import Encoded
from liftbit_common.internal_api.storage import WriteOptions


class Dependency(Protocol):
    async def health_checks(self) -> dict[str, str]:
        """The service's own state first (under its name: "ok", "starting" or what is wrong), then
        each of its dependencies'."""


class Metadata(Dependency, Protocol):
    """metadata_ms: users, tokens, the file tree (files, folders, trash, versions, grants),
    resumable-upload state, the object ledger."""

    async def register(self, new_user: NewAccount) -> UserCreated: ...
    async def describe_user(self, username: str) -> UserInfo: ...
    async def remove_user(self, username: str) -> RemovedAccount: ...
    async def issue_token(self, attempt: LoginAttempt) -> IssuedToken: ...
    async def resolve_token(self, token_hash: str) -> TokenOwner:
        """Who the token speaks for, with role and scope; 401 unknown, expired or the account disabled."""

    async def revoke_token(self, token_hash: str) -> None: ...
    async def change_password(self, username: str, change: PasswordChangeRequest) -> None:
        """403 a wrong current password; revokes every token of the user but ``keep_token_hash``."""

    async def reset_password(self, reset: ResetByHash) -> UserCreated:
        """The reset token's user (404 unknown, 410 used or expired); revokes all their tokens."""

    async def sessions(self, username: str, current_hash: str) -> list[SessionInfo]: ...
    async def revoke_session(self, username: str, session_id: str) -> None: ...
    async def revoke_sessions(self, username: str, keep_hash: str) -> None: ...
    async def create_api_token(self, username: str, request: ApiTokenRequest) -> ApiTokenInfo: ...
    async def api_tokens(self, username: str) -> list[ApiTokenInfo]: ...
    async def revoke_api_token(self, username: str, token_id: str) -> None: ...
    async def admin_users(self) -> list[AdminUser]: ...
    async def set_quota(self, username: str, quota_bytes: int | None, actor: str) -> AdminUser: ...
    async def set_role(self, username: str, role: Role, actor: str) -> AdminUser:
        """409 when it would leave no enabled admin."""

    async def set_disabled(self, username: str, disabled: bool, actor: str) -> None:
        """409 when it would leave no enabled admin."""

    async def admin_remove_user(self, username: str, actor: str) -> RemovedAccount: ...
    async def create_invite(self, request: InviteRequest) -> InviteInfo: ...
    async def issue_reset(self, username: str, request: ResetRequest) -> IssuedReset: ...
    async def audit(self, limit: int, before: int | None) -> list[AuditEntry]:
        """Admin actions, newest first."""

    async def platform_totals(self) -> PlatformTotals: ...
    # The listings come encoded: files_ms passes them on as metadata_ms wrote them.
    async def list_files(
        self, owner: str, limit: int, cursor: str | None, *, prefix: str | None, query: str | None
    ) -> Encoded[FilePage]: ...
    async def readable(self, owner: str, path: str, reader: str) -> StoredNode:
        """The file or folder if ``reader`` may read it (the owner, a grantee of it or of a folder
        above it); otherwise the same 404 as for nothing at that path."""

    async def readable_by_id(self, node_id: str, reader: str) -> StoredNode: ...
    async def upload_allowance(self, owner: str, path: str, *, keep_existing: bool = False) -> UploadAllowance:
        """The bytes the quota leaves; 409 when a folder is where the file goes (unless the
        commit will ``keep_existing``) or a file where one of its folders goes."""

    async def commit(self, owner: str, path: str, commit: FileCommit) -> CommitResult: ...
    async def record_download(self, node_id: str, record: DownloadRecord) -> None: ...
    async def make_folder(self, owner: str, path: str) -> FolderResult: ...
    async def children(
        self, owner: str, path: str | None, reader: str, limit: int, cursor: str | None
    ) -> Encoded[NodePage]: ...
    async def move(self, owner: str, request: MoveRequest) -> NodeInfo: ...
    async def trash(self, owner: str, path: str, kind: Literal["file", "folder"], actor: str) -> TrashEntry: ...
    async def trash_page(self, owner: str, limit: int, cursor: str | None) -> TrashPage: ...
    async def restore(self, owner: str, entry_id: str, actor: str) -> NodeInfo: ...
    async def purge(self, owner: str, entry_id: str | None, actor: str) -> RemovedObjects: ...
    async def purge_expired_trash(self, older_than_seconds: int) -> RemovedObjects: ...
    async def versions(self, node_id: str, reader: str) -> list[VersionInfo]: ...
    async def version(self, node_id: str, number: int, reader: str) -> StoredVersion: ...
    async def restore_version(self, node_id: str, number: int, actor: str) -> CommitResult: ...
    async def grantees(self, node_id: str, owner: str) -> list[str]: ...
    async def grant(self, node_id: str, owner: str, grantee: str) -> None: ...
    async def revoke(self, node_id: str, owner: str, grantee: str) -> None: ...
    async def shared_with(self, username: str, query: str | None) -> list[NodeInfo]: ...
    async def create_link(self, node_id: str, request: LinkRequest) -> StoredLink: ...
    async def links(self, node_id: str, owner: str, *, include_revoked: bool = False) -> list[StoredLink]: ...
    async def revoke_link(self, link_id: str, owner: str) -> None: ...
    async def resolve_link(self, token_hash: str, access: LinkAccess) -> ResolvedLink:
        """A working link and its live node (410 revoked, expired or node gone; 404 unknown;
        401 a wrong password, 429 too many)."""

    async def record_link_download(self, link_id: str, download: LinkDownload) -> StoredLink:
        """The download event; a counted download takes one of max_downloads (410 if none is left)."""

    async def owned_nodes(self, owner: str, node_ids: Sequence[str]) -> list[NodeInfo]:
        """The owner's live nodes among the ids (trashed, purged or unknown ones left out)."""

    async def create_upload(self, owner: str, new: NewUpload) -> UploadState: ...
    async def get_upload(self, owner: str, upload_id: uuid.UUID) -> UploadState: ...
    async def advance_upload(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState: ...
    async def remove_upload(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects: ...
    async def lease_upload(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> UploadState: ...
    async def release_upload(self, owner: str, upload_id: uuid.UUID, writer: uuid.UUID) -> None: ...
    async def due_deletions(self, limit: int) -> list[ObjectRef]: ...
    async def deletions_done(self, keys: list[str]) -> None: ...
    async def unreferenced(self, keys: list[str]) -> list[str]: ...
    async def multipart_in_use(self, upload_ids: list[str]) -> set[str]: ...
    async def expire(self) -> int: ...


class Storage(Dependency, Protocol):
    """storage_ms: object bytes, streamed in; downloads are presigned URLs nginx fetches."""

    async def write(self, key: str, body: AsyncIterable[bytes], options: WriteOptions) -> WrittenObject:
        """Store the body under ``key`` as it arrives, refusing it past the options' limits."""

    async def presigned_url(self, key: str, *, content_type: str, content_disposition: str) -> str: ...
    async def delete(self, objects: Sequence[ObjectRef]) -> None: ...
    async def start_multipart(self, key: str, content_type: str) -> str: ...
    async def append_parts(
        self, upload: UploadState, body: AsyncIterable[bytes], *, upload_checksum: str | None
    ) -> AppendedParts: ...
    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadPart]) -> WrittenObject: ...
    async def stale_objects(self, older_than_seconds: int, start_after: str | None) -> StaleObjects: ...
    async def stale_multipart_uploads(self, older_than_seconds: int) -> list[StaleMultipartUpload]: ...


class Analytics(Dependency, Protocol):
    """analytics_ms: the download windows and owners' stats of the streaming job."""

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]: ...
    async def node_stats(
        self, file_id: str | None, link_ids: Sequence[str], since: datetime | None, until: datetime | None
    ) -> NodeStats:
        """Downloads of the file (any way; None: none) or through the links, per window and link."""

    async def owner_stats(self, owner: str, since: datetime | None, until: datetime | None, limit: int) -> UserStats:
        """The owner's totals and top files by downloads, with ``path`` None (analytics does not know it)."""
