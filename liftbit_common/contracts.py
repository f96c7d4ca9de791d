"""Models that cross service boundaries: the public FileInfo and the internal call bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from liftbit_common.names import (
    FILENAME_RULE,
    MAX_FILENAME_BYTES,
    PATH_RULE,
    USERNAME_PATTERN,
    USERNAME_RULE,
    filename_pattern,
    normalize_filename,
    normalize_path,
    validate_username,
)


def _publish_filename_rule(schema: dict[str, Any]) -> None:
    """The rule in the OpenAPI schema as well as in the validator (built when the schema is)."""
    schema.update(pattern=filename_pattern(), minLength=1, maxLength=MAX_FILENAME_BYTES)


# The patterns are published in the schema (json_schema_extra) while the validators give the messages.
Username = Annotated[
    str,
    AfterValidator(validate_username),
    Field(
        description=USERNAME_RULE,
        examples=["alice"],
        json_schema_extra={"pattern": USERNAME_PATTERN, "minLength": 3, "maxLength": 32},
    ),
]
Filename = Annotated[
    str,
    AfterValidator(normalize_filename),
    Field(description=FILENAME_RULE, examples=["notes.txt"], json_schema_extra=_publish_filename_rule),
]
FilePath = Annotated[str, AfterValidator(normalize_path), Field(description=PATH_RULE, examples=["photos/2024/a.jpg"])]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=1024),
    Field(description="8-1024 characters", examples=["correct horse battery"]),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 passwords seen most often in breaches (shipped in the wheel: no network)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]  # no stubs

    return frozenset(FREQUENCY_LISTS["passwords"])


_COMMON_PASSWORDS: list[frozenset[str]] = []  # loaded on first use: ~2 MB that only password changes need


def reject_common_password(password: str) -> str:
    if not _COMMON_PASSWORDS:
        _COMMON_PASSWORDS.append(_common_passwords())
    if password.casefold() in _COMMON_PASSWORDS[0] or len(set(password)) < 3:
        raise ValueError("this password is among the most common ones in breaches; choose another")
    return password


# An account's password (registration, change, reset): the length rule plus the breached-list check.
# Share-link passwords stay plain Password: they guard one link, not an account.
AccountPassword = Annotated[
    str,
    StringConstraints(min_length=8, max_length=1024),
    AfterValidator(reject_common_password),
    Field(
        description="8-1024 characters, not one of the 30,000 most common breached passwords",
        examples=["correct horse battery"],
    ),
]
Role = Literal["admin", "user"]
MAX_BIGINT = 2**63 - 1  # what a Postgres bigint holds
TokenScope = Literal["read", "full"]


class FileInfo(BaseModel):
    id: str = Field(description="Stable across move, rename and replace")
    type: Literal["file"] = "file"
    owner: str
    path: str = Field(description="Folders and name, e.g. photos/2024/a.jpg")
    filename: str = Field(description="The last segment of path")
    size: int = Field(description="Bytes")
    content_type: str
    sha256: str = Field(description="SHA-256 of the content, lower-case hex; also the download ETag")
    created_at: datetime
    updated_at: datetime


class FolderInfo(BaseModel):
    id: str = Field(description="Stable across move and rename")
    type: Literal["folder"] = "folder"
    owner: str
    path: str
    name: str = Field(description="The last segment of path")
    created_at: datetime
    updated_at: datetime
    item_count: int = Field(description="Files and folders directly inside")
    total_size: int = Field(description="Bytes of the current contents of every file below it")


NodeInfo = Annotated[FileInfo | FolderInfo, Field(discriminator="type")]


class StoredFile(FileInfo):
    """FileInfo plus where the bytes are; internal only."""

    object_key: str

    def public(self) -> FileInfo:
        """What users may see: everything but the object key."""
        return FileInfo.model_validate(self.model_dump(exclude={"object_key"}))


class FilePage(BaseModel):
    items: list[FileInfo]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null at the end")


class NodePage(BaseModel):
    items: list[NodeInfo]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null at the end")


class StoredNode(BaseModel):
    """A file or folder as metadata_ms hands it to files_ms; ``object_key`` only on files."""

    node: NodeInfo
    object_key: str | None = None

    def file(self) -> StoredFile | None:
        if not isinstance(self.node, FileInfo) or self.object_key is None:
            return None
        return StoredFile(**self.node.model_dump(), object_key=self.object_key)


class FolderResult(BaseModel):
    folder: FolderInfo
    created: bool


class Move(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: FilePath = Field(alias="from", description="The file or folder to move")
    to: FilePath = Field(description="Its new path; must not exist yet")


class TreeChange(BaseModel):
    """Who asks for a change of the tree (the event's actor)."""

    actor: str


class MoveRequest(Move, TreeChange):
    pass


class TrashEntry(BaseModel):
    id: str
    type: Literal["file", "folder"]
    path: str = Field(description="Where it was, and where restore puts it back")
    size: int = Field(description="Bytes of the current contents (of everything below, for a folder)")
    deleted_at: datetime


class TrashPage(BaseModel):
    items: list[TrashEntry]
    next_cursor: str | None = None


class VersionInfo(BaseModel):
    version: int = Field(description="1 for the first content; the highest is the current one")
    size: int
    sha256: str
    content_type: str
    created_at: datetime
    current: bool


class StoredVersion(BaseModel):
    """One version's bytes and the file it belongs to; internal only."""

    file: FileInfo
    version: VersionInfo
    object_key: str


class NewUser(BaseModel):
    username: Username
    password: AccountPassword
    invite: str | None = Field(
        None, max_length=200, description="The token of an invitation (required when REGISTRATION=invite)"
    )


class NewAccount(BaseModel):
    """A registration as files_ms passes it on: the invite's hash (never the token) and the
    client's address, for the throttle."""

    username: Username
    password: AccountPassword
    invite_hash: Sha256Hex | None = None
    address: str


class UserCreated(BaseModel):
    username: str


class UserInfo(BaseModel):
    username: str
    created_at: datetime
    used_bytes: int = Field(description="Bytes of all the user's files")
    quota_bytes: int | None = Field(description="Storage quota in bytes; null when unlimited")
    file_count: int


class Credentials(BaseModel):
    username: str
    password: str


class LoginAttempt(Credentials):
    """A login as files_ms passes it on: with the client's address, for the throttle, and its
    User-Agent, shown in the user's session list."""

    address: str
    client: str | None = Field(None, max_length=200)


class IssuedToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class TokenOwner(BaseModel):
    """Whom a bearer token speaks for. Role and scope come from metadata_ms's tables only, never
    from anything the client sends."""

    username: str
    expires_at: datetime | None = Field(description="None: an API token without expiry")
    role: Role = "user"
    scope: TokenScope = "full"


class UploadAllowance(BaseModel):
    """How many bytes the user may still store (at this path); null when unlimited."""

    max_bytes: int | None


class FileCommit(BaseModel):
    object_key: str
    size: int = Field(ge=0)
    sha256: Sha256Hex
    content_type: str
    actor: str
    upload_id: uuid.UUID | None = Field(None, description="The resumable upload this completes, if any")
    keep_existing: bool = Field(
        False, description="Never replace: a taken name becomes 'name (2).ext' (uploads through a file request)"
    )
    uploader_name: str | None = Field(None, max_length=200, description="Named in the upload event")


class CommitResult(BaseModel):
    file: FileInfo
    created: bool


class DownloadRecord(BaseModel):
    actor: str
    size: int = Field(ge=0)


class ObjectRef(BaseModel):
    object_key: str
    s3_upload_id: str | None = None


class RemovedObjects(BaseModel):
    """Objects whose metadata is gone: the caller deletes them now, the sweeper if that fails."""

    objects: list[ObjectRef]


class DeletionReport(BaseModel):
    """What went with a deleted account."""

    username: str
    files: int = Field(description="Files, in the trash too")
    folders: int
    bytes: int = Field(description="Bytes of the files' current contents")
    versions: int = Field(description="Earlier contents kept as versions")
    grants: int = Field(description="Grants the user had given")
    links: int = Field(description="Share links of the user's")
    tokens: int = Field(description="Sessions and API tokens")
    objects: int = Field(description="Objects queued for deletion from S3")


class RemovedAccount(RemovedObjects):
    report: DeletionReport


class ObjectKeys(BaseModel):
    keys: list[str]


class NewUpload(BaseModel):
    id: uuid.UUID
    path: FilePath
    content_type: str
    length: int = Field(ge=0)
    part_size: int = Field(gt=0)
    object_key: str
    s3_upload_id: str
    metadata_header: str = ""
    expires_at: datetime
    link_id: uuid.UUID | None = Field(None, description="The file-request link it came through, if any")
    uploader_name: str | None = Field(None, max_length=200, description="The name a link's uploader gave")


class UploadPart(BaseModel):
    number: int
    etag: str


class UploadProgress(BaseModel):
    offset: int = Field(ge=0)
    parts: list[UploadPart]
    tail_key: str | None


class UploadState(NewUpload):
    owner: str
    progress: UploadProgress


class UploadLease(BaseModel):
    """The right to write one upload, held by one request at a time across every files_ms copy."""

    writer: uuid.UUID = Field(description="The request holding it; it renews and releases the lease by this id")
    seconds: float = Field(gt=0, le=600, description="How long the lease lasts unless renewed")


class ProgressUpdate(BaseModel):
    expected_offset: int = Field(ge=0, description="Applied only if the stored offset still equals this")
    progress: UploadProgress


# storage_ms answers


class WrittenObject(BaseModel):
    key: str
    size: int
    sha256: str


class AppendedParts(BaseModel):
    received: int
    parts: list[UploadPart]
    tail_key: str | None


class StaleObjects(BaseModel):
    keys: list[str]
    next_start_after: str | None = None  # None once the listing reached the end


class StaleMultipartUpload(BaseModel):
    key: str
    upload_id: str


class PresignedUrl(BaseModel):
    url: str


class MultipartStarted(BaseModel):
    upload_id: str


class MultipartCompletion(BaseModel):
    upload_id: str
    parts: list[UploadPart]


class ObjectRefs(BaseModel):
    objects: list[ObjectRef]


class DownloadWindow(BaseModel):
    """Downloads in one tumbling window [window_start, window_end)."""

    window_start: datetime
    window_end: datetime
    downloads: int
    bytes: int


# Share links (DESIGN, second stage: /files/{id}/links, /links/{id}, /s/{token}).


class NewLink(BaseModel):
    """A share link on a file or folder; every field optional."""

    model_config = ConfigDict(extra="forbid")

    expires_at: datetime | None = Field(
        None, description="When it stops working; must be in the future, with an offset"
    )
    password: Password | None = Field(None, description="Recipients must give it (form or X-Link-Password header)")
    max_downloads: int | None = Field(
        None, ge=1, description="Completed downloads allowed (see the README: what counts as one)"
    )
    upload_only: bool = Field(False, description="A file request: recipients upload into the folder, see nothing")


class LinkInfo(BaseModel):
    id: str
    node_id: str = Field(description="The linked file or folder")
    url: str | None = Field(
        None, description="The recipient's page (…/s/<token>); only in the answer that created the link"
    )
    expires_at: datetime | None
    max_downloads: int | None
    downloads: int = Field(description="Downloads counted against max_downloads so far")
    has_password: bool
    upload_only: bool
    created_at: datetime


class CreatedLink(LinkInfo):
    url: str = Field(description="The recipient's page, …/s/<token>")
    token: str = Field(description="Shown this once only: LiftBit stores its hash")


class LinkRequest(NewLink):
    """metadata_ms's side of creating a link: the token's hash (never the token) and who asks."""

    owner: str
    token_hash: Sha256Hex


class StoredLink(BaseModel):
    """A link as metadata_ms hands it to files_ms (internal)."""

    id: str
    node_id: str | None = Field(description="None once the linked node was purged")
    owner: str
    expires_at: datetime | None
    max_downloads: int | None
    downloads: int
    has_password: bool
    upload_only: bool
    created_at: datetime
    revoked_at: datetime | None

    def public(self, url: str | None = None) -> LinkInfo:
        return LinkInfo(
            **self.model_dump(exclude={"owner", "revoked_at", "node_id"}), node_id=self.node_id or "", url=url
        )

    @property
    def used_up(self) -> bool:
        return self.max_downloads is not None and self.downloads >= self.max_downloads


class LinkAccess(BaseModel):
    """A recipient's request: the password they gave (if any) and where they ask from."""

    password: str | None = Field(None, max_length=1024)
    address: str


class ResolvedLink(BaseModel):
    """A working link (not revoked or expired) and its live node; ``password_checked``: a password
    was given and is right (a wrong one is refused with 401, throttled)."""

    link: StoredLink
    node: StoredNode
    password_checked: bool


class LinkDownload(BaseModel):
    """A download through a link; ``counted`` ones take one of max_downloads (410 once used up)."""

    node_id: str
    size: int = Field(ge=0)
    counted: bool
    address: str


class WindowTotals(DownloadWindow):
    """Downloads of one file or link in one window; ``alert``: the leak alert fired in it."""

    addresses: int = Field(0, description="Distinct client addresses among link downloads")
    alert: bool = False


class LinkTotals(BaseModel):
    link_id: str
    downloads: int
    bytes: int
    addresses: int = Field(description="Distinct client addresses, over the whole range")
    alert: bool = Field(description="Downloaded from more than LINK_ALERT_ADDRESSES addresses within one window")


class NodeStats(BaseModel):
    """GET /files/{id}/stats: downloads of a file (by anyone, through any way), or for a folder the
    downloads through its links."""

    downloads: int
    bytes: int
    windows: list[WindowTotals]
    links: list[LinkTotals]


class FileTotals(BaseModel):
    file_id: str
    path: str | None = Field(description="Where it is now; null once it is gone for good")
    downloads: int
    bytes: int


class UserStats(BaseModel):
    """GET /users/{username}/stats: what the user's files served, and the most downloaded ones."""

    downloads: int
    bytes: int
    top_files: list[FileTotals]


# Team administration (DESIGN, second stage: /admin/…, passwords, sessions, API tokens).


class AdminUser(BaseModel):
    username: str
    role: Role
    disabled: bool
    used_bytes: int
    quota_bytes: int | None = Field(description="null: unlimited")
    file_count: int
    last_login_at: datetime | None
    created_at: datetime


class QuotaChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quota_bytes: int | None = Field(
        ge=0,
        le=MAX_BIGINT,
        description="Bytes; null or 0: unlimited. Below the current usage is allowed: uploads are then refused (413)",
    )


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class NewInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_at: AwareDatetime | None = Field(
        None, description="Default: INVITE_SECONDS from now; must be in the future, with an offset"
    )
    username: Username | None = Field(None, description="Only this username may register with it")
    quota_bytes: int | None = Field(
        None, ge=0, le=MAX_BIGINT, description="The new account's quota (default DEFAULT_QUOTA_BYTES)"
    )


class InviteRequest(NewInvite):
    """metadata_ms's side: the token's hash and the admin who invites."""

    actor: str
    token_hash: Sha256Hex


class InviteInfo(BaseModel):
    id: str
    expires_at: datetime
    username: str | None = None
    quota_bytes: int | None = None


class CreatedInvite(InviteInfo):
    token: str = Field(description="Shown this once only: give it to the invitee (POST /users with invite)")


class ResetRequest(BaseModel):
    """An admin asks for a password reset token (metadata_ms's side: its hash only)."""

    actor: str
    token_hash: Sha256Hex


class IssuedReset(BaseModel):
    username: str
    expires_at: datetime


class CreatedReset(IssuedReset):
    token: str = Field(description="Shown this once only; POST /auth/reset {token, new_password} uses it")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    new_password: AccountPassword


class ResetByHash(BaseModel):
    token_hash: Sha256Hex
    new_password: AccountPassword


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: AccountPassword


class PasswordChangeRequest(PasswordChange):
    """metadata_ms's side: the token that stays (every other one of the user is revoked)."""

    keep_token_hash: Sha256Hex


class SessionInfo(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    expires_at: datetime | None
    client: str | None = Field(description="The User-Agent and address it logged in with")
    current: bool = Field(False, description="The token of this request")


class NewApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scope: TokenScope
    expires_at: AwareDatetime | None = Field(
        None, description="None: until revoked; else in the future, with an offset"
    )


class ApiTokenRequest(NewApiToken):
    token_hash: Sha256Hex


class ApiTokenInfo(BaseModel):
    id: str
    name: str
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class CreatedApiToken(ApiTokenInfo):
    token: str = Field(description="Shown this once only: LiftBit stores its hash")


class AuditEntry(BaseModel):
    id: int
    actor: str = Field(description="The admin who acted")
    action: str = Field(description="One of the admin event types, e.g. user_disabled")
    target: str = Field(description="The user acted on (for an invite: the fixed username, or '')")
    detail: str | None
    occurred_at: datetime


class PlatformTotals(BaseModel):
    """What metadata_ms counts; files_ms adds today's downloads from the analytics tables."""

    users: int
    admins: int
    disabled_users: int
    files: int
    bytes: int
    uploads_today: int = Field(description="Contents committed since midnight UTC")


class PlatformStats(PlatformTotals):
    downloads_today: int = Field(description="Downloads since midnight UTC (the analytics windows)")
    download_bytes_today: int
