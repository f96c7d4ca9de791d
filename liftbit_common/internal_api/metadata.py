"""metadata_ms's routes: users, tokens, the file tree (files, folders, trash, versions, grants),
resumable-upload state, the object ledger."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    ApiTokenRequest,
    AuditEntry,
    CommitResult,
    DownloadRecord,
    FileCommit,
    FilePage,
    FilePath,
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
    QuotaChange,
    RemovedAccount,
    RemovedObjects,
    ResetByHash,
    ResetRequest,
    ResolvedLink,
    RoleChange,
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
from liftbit_common.internal_api.route import Route

PageLimit = Annotated[int, Field(ge=1, le=1000)]


class AllowanceQuery(BaseModel):
    path: FilePath
    keep_existing: bool = Field(False, description="The commit will not replace: a node at the path is no conflict")


class PageQuery(BaseModel):
    limit: PageLimit = 100
    cursor: str | None = Field(None, description="next_cursor of the previous page")


class FileListQuery(PageQuery):
    prefix: FilePath | None = Field(None, description="Only files below this folder")
    q: str | None = Field(None, min_length=1, max_length=255, description="Only names containing this, any case")


class ReaderQuery(BaseModel):
    reader: str = Field(description="The user asking: the owner or a grantee, else 404")


class ChildrenQuery(PageQuery, ReaderQuery):
    path: FilePath | None = Field(None, description="The folder; none: the top of the namespace")


class ActorQuery(BaseModel):
    actor: str = Field(description="Who changes the tree; named in the event")


class TrashQuery(ActorQuery):
    type: Literal["file", "folder"] = Field(description="What the path must be (404 otherwise)")


class OwnerQuery(BaseModel):
    owner: str = Field(description="The user asking, who must own the node (else 404)")


class LinksQuery(OwnerQuery):
    include_revoked: bool = Field(False, description="Revoked links too (their downloads stay in the stats)")


class SharedQuery(BaseModel):
    q: str | None = Field(None, min_length=1, max_length=255, description="Search by name, in shared folders too")
    limit: PageLimit = 1000


class TrashRetentionQuery(BaseModel):
    older_than_seconds: int = Field(ge=0)


class DeletionsQuery(BaseModel):
    limit: PageLimit = 500


class NodeIds(BaseModel):
    ids: list[str] = Field(
        max_length=1000, description="Node ids; those not live, not the owner's or unknown are left out"
    )


class ExpiryReport(BaseModel):
    expired_uploads: int


class AdminAction(BaseModel):
    actor: str = Field(description="The admin who acts (files_ms checked the role); named in the audit")


class QuotaAction(QuotaChange, AdminAction):
    pass


class RoleAction(RoleChange, AdminAction):
    pass


class DisableAction(AdminAction):
    disabled: bool


class AuditQuery(BaseModel):
    limit: PageLimit = 100
    before: int | None = Field(None, description="Only entries older than this id (the next page)")


class CurrentTokenQuery(BaseModel):
    current: str = Field("", description="The hash of the asking token: marked current, or kept")


REGISTER: Route[NewAccount, UserCreated] = Route("POST", "/users", NewAccount, UserCreated, status_code=201)
DESCRIBE_USER: Route[None, UserInfo] = Route("GET", "/users/{username}", answer=UserInfo)
REMOVE_USER: Route[None, RemovedAccount] = Route("DELETE", "/users/{username}", answer=RemovedAccount)
UPLOAD_ALLOWANCE: Route[AllowanceQuery, UploadAllowance] = Route(
    "GET", "/users/{username}/allowance", AllowanceQuery, UploadAllowance, request_in="query"
)
SHARED_WITH: Route[SharedQuery, list[NodeInfo]] = Route(
    "GET", "/users/{username}/shared", SharedQuery, list[NodeInfo], request_in="query"
)
# The owner's live nodes among the ids, where they are now (the stats name files by current path).
OWNED_NODES: Route[NodeIds, list[NodeInfo]] = Route("POST", "/users/{owner}/nodes-by-id", NodeIds, list[NodeInfo])

ISSUE_TOKEN: Route[LoginAttempt, IssuedToken] = Route("POST", "/tokens", LoginAttempt, IssuedToken)
RESOLVE_TOKEN: Route[None, TokenOwner] = Route("GET", "/tokens/{token_hash}", answer=TokenOwner)
REVOKE_TOKEN: Route[None, None] = Route("DELETE", "/tokens/{token_hash}")

# A user's own: password, sessions, API tokens.
CHANGE_PASSWORD: Route[PasswordChangeRequest, None] = Route("POST", "/users/{username}/password", PasswordChangeRequest)
# The reset token's user, once its new password is set (410 used or expired, 404 unknown).
RESET_PASSWORD: Route[ResetByHash, UserCreated] = Route("POST", "/password-resets", ResetByHash, UserCreated)
SESSIONS: Route[CurrentTokenQuery, list[SessionInfo]] = Route(
    "GET", "/users/{username}/sessions", CurrentTokenQuery, list[SessionInfo], request_in="query"
)
REVOKE_SESSION: Route[None, None] = Route("DELETE", "/users/{username}/sessions/{session_id}")
# Every session but the asking one.
REVOKE_SESSIONS: Route[CurrentTokenQuery, None] = Route(
    "DELETE", "/users/{username}/sessions", CurrentTokenQuery, request_in="query"
)
CREATE_API_TOKEN: Route[ApiTokenRequest, ApiTokenInfo] = Route(
    "POST", "/users/{username}/api-tokens", ApiTokenRequest, ApiTokenInfo, status_code=201
)
API_TOKENS: Route[None, list[ApiTokenInfo]] = Route("GET", "/users/{username}/api-tokens", answer=list[ApiTokenInfo])
REVOKE_API_TOKEN: Route[None, None] = Route("DELETE", "/users/{username}/api-tokens/{token_id}")

# Administration: files_ms lets only admins call these; ``actor`` is the admin, for the audit.
ADMIN_USERS: Route[None, list[AdminUser]] = Route("GET", "/admin/users", answer=list[AdminUser])
SET_QUOTA: Route[QuotaAction, AdminUser] = Route("PUT", "/admin/users/{username}/quota", QuotaAction, AdminUser)
SET_ROLE: Route[RoleAction, AdminUser] = Route("PUT", "/admin/users/{username}/role", RoleAction, AdminUser)
# 409 when it would leave no enabled admin.
SET_DISABLED: Route[DisableAction, None] = Route("PUT", "/admin/users/{username}/disabled", DisableAction)
ADMIN_REMOVE_USER: Route[AdminAction, RemovedAccount] = Route(
    "DELETE", "/admin/users/{username}", AdminAction, RemovedAccount, request_in="query"
)
CREATE_INVITE: Route[InviteRequest, InviteInfo] = Route(
    "POST", "/admin/invites", InviteRequest, InviteInfo, status_code=201
)
ISSUE_RESET: Route[ResetRequest, IssuedReset] = Route(
    "POST", "/admin/users/{username}/resets", ResetRequest, IssuedReset, status_code=201
)
AUDIT: Route[AuditQuery, list[AuditEntry]] = Route(
    "GET", "/admin/audit", AuditQuery, list[AuditEntry], request_in="query"
)
PLATFORM_TOTALS: Route[None, PlatformTotals] = Route("GET", "/admin/totals", answer=PlatformTotals)

LIST_FILES: Route[FileListQuery, FilePage] = Route(
    "GET", "/users/{owner}/files", FileListQuery, FilePage, request_in="query"
)
_NODE = "/users/{owner}/nodes/{path:path}"  # a file or folder by path
READABLE: Route[ReaderQuery, StoredNode] = Route("GET", _NODE, ReaderQuery, StoredNode, request_in="query")
# 201 when the commit created the file, 200 when it replaced one.
COMMIT_FILE: Route[FileCommit, CommitResult] = Route("PUT", _NODE, FileCommit, CommitResult)
TRASH: Route[TrashQuery, TrashEntry] = Route("DELETE", _NODE, TrashQuery, TrashEntry, request_in="query")
# 201 when created, 200 when the folder existed.
MAKE_FOLDER: Route[None, FolderResult] = Route("PUT", "/users/{owner}/folders/{path:path}", answer=FolderResult)
CHILDREN: Route[ChildrenQuery, NodePage] = Route(
    "GET", "/users/{owner}/children", ChildrenQuery, NodePage, request_in="query"
)
MOVE: Route[MoveRequest, NodeInfo] = Route(
    "POST",
    "/users/{owner}/move",
    MoveRequest,
    NodeInfo,  # type: ignore[arg-type]  # a union of models: a TypeAdapter reads it, mypy wants a class
)
TRASH_PAGE: Route[PageQuery, TrashPage] = Route("GET", "/users/{owner}/trash", PageQuery, TrashPage, request_in="query")
RESTORE: Route[ActorQuery, NodeInfo] = Route(
    "POST",
    "/users/{owner}/trash/{entry_id}/restore",
    ActorQuery,
    NodeInfo,  # type: ignore[arg-type]  # a union of models: a TypeAdapter reads it, mypy wants a class
    request_in="query",
)
PURGE: Route[ActorQuery, RemovedObjects] = Route(
    "DELETE", "/users/{owner}/trash/{entry_id}", ActorQuery, RemovedObjects, request_in="query"
)
EMPTY_TRASH: Route[ActorQuery, RemovedObjects] = Route(
    "DELETE", "/users/{owner}/trash", ActorQuery, RemovedObjects, request_in="query"
)

_BY_ID = "/nodes/{node_id}"
READABLE_BY_ID: Route[ReaderQuery, StoredNode] = Route("GET", _BY_ID, ReaderQuery, StoredNode, request_in="query")
RECORD_DOWNLOAD: Route[DownloadRecord, None] = Route("POST", f"{_BY_ID}/downloads", DownloadRecord)
VERSIONS: Route[ReaderQuery, list[VersionInfo]] = Route(
    "GET", f"{_BY_ID}/versions", ReaderQuery, list[VersionInfo], request_in="query"
)
VERSION: Route[ReaderQuery, StoredVersion] = Route(
    "GET", f"{_BY_ID}/versions/{{number}}", ReaderQuery, StoredVersion, request_in="query"
)
RESTORE_VERSION: Route[ActorQuery, CommitResult] = Route(
    "POST", f"{_BY_ID}/versions/{{number}}/restore", ActorQuery, CommitResult, request_in="query"
)
GRANTEES: Route[OwnerQuery, list[str]] = Route("GET", f"{_BY_ID}/grants", OwnerQuery, list[str], request_in="query")
GRANT: Route[OwnerQuery, None] = Route("PUT", f"{_BY_ID}/grants/{{grantee}}", OwnerQuery, request_in="query")
REVOKE_GRANT: Route[OwnerQuery, None] = Route("DELETE", f"{_BY_ID}/grants/{{grantee}}", OwnerQuery, request_in="query")

CREATE_LINK: Route[LinkRequest, StoredLink] = Route("POST", f"{_BY_ID}/links", LinkRequest, StoredLink, status_code=201)
LINKS: Route[LinksQuery, list[StoredLink]] = Route(
    "GET", f"{_BY_ID}/links", LinksQuery, list[StoredLink], request_in="query"
)
REVOKE_LINK: Route[OwnerQuery, None] = Route("DELETE", "/links/{link_id}", OwnerQuery, request_in="query")
# POST: the recipient's password travels in the body, never in a URL that logs keep.
RESOLVE_LINK: Route[LinkAccess, ResolvedLink] = Route("POST", "/links/by-token/{token_hash}", LinkAccess, ResolvedLink)
RECORD_LINK_DOWNLOAD: Route[LinkDownload, StoredLink] = Route(
    "POST", "/links/{link_id}/downloads", LinkDownload, StoredLink
)

_UPLOAD = "/users/{owner}/uploads/{upload_id}"
CREATE_UPLOAD: Route[NewUpload, UploadState] = Route(
    "POST", "/users/{owner}/uploads", NewUpload, UploadState, status_code=201
)
GET_UPLOAD: Route[None, UploadState] = Route("GET", _UPLOAD, answer=UploadState)
ADVANCE_UPLOAD: Route[ProgressUpdate, UploadState] = Route("PATCH", _UPLOAD, ProgressUpdate, UploadState)
REMOVE_UPLOAD: Route[None, RemovedObjects] = Route("DELETE", _UPLOAD, answer=RemovedObjects)
# Take or renew the upload's lease (409 upload_busy while another writer holds it), then let it go.
LEASE_UPLOAD: Route[UploadLease, UploadState] = Route("POST", f"{_UPLOAD}/lease", UploadLease, UploadState)
RELEASE_UPLOAD: Route[None, None] = Route("DELETE", f"{_UPLOAD}/lease/{{writer}}")

DUE_DELETIONS: Route[DeletionsQuery, list[ObjectRef]] = Route(
    "GET", "/object-deletions", DeletionsQuery, list[ObjectRef], request_in="query"
)
DELETIONS_DONE: Route[ObjectKeys, None] = Route("POST", "/object-deletions/done", ObjectKeys)
UNREFERENCED_OBJECTS: Route[ObjectKeys, ObjectKeys] = Route("POST", "/objects/unreferenced", ObjectKeys, ObjectKeys)
MULTIPART_IN_USE: Route[ObjectKeys, ObjectKeys] = Route("POST", "/multipart-uploads/in-use", ObjectKeys, ObjectKeys)
EXPIRE_UPLOADS: Route[None, ExpiryReport] = Route("POST", "/maintenance/expire", answer=ExpiryReport)
# Trash entries deleted longer ago than this are purged; their objects are queued, due now.
PURGE_EXPIRED_TRASH: Route[TrashRetentionQuery, RemovedObjects] = Route(
    "POST", "/maintenance/purge-trash", TrashRetentionQuery, RemovedObjects, request_in="query"
)
