"""In-memory stand-ins for metadata_ms, storage_ms and analytics_ms, implementing the Protocols
files_ms's domain services depend on (files_ms/clients/protocols.py), for the in-process tier.

They keep the answers the real services give where files_ms's behaviour depends on them: the
same error classes and codes (404 for a file the reader may not see, 409 for a taken name, 413
past the quota or a size limit, 422 for a bad cursor, the tree's 409s), the same cursor format, and
the access rule (owner, grantee of the node or of a folder above it, nothing in the trash). Bytes are held
in memory: the fakes serve small test files, never a benchmark.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import uuid
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    ApiTokenRequest,
    AppendedParts,
    AuditEntry,
    CommitResult,
    DeletionReport,
    DownloadRecord,
    DownloadWindow,
    FileCommit,
    FileInfo,
    FilePage,
    FileTotals,
    FolderInfo,
    FolderResult,
    InviteInfo,
    InviteRequest,
    IssuedReset,
    IssuedToken,
    LinkAccess,
    LinkDownload,
    LinkRequest,
    LinkTotals,
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
    UploadProgress,
    UploadState,
    UserCreated,
    UserInfo,
    UserStats,
    VersionInfo,
    WrittenObject,
)
from liftbit_common.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    account_disabled,
    last_admin,
    link_used_up,
)
from liftbit_common.internal_api.route import Encoded, encoded
from liftbit_common.internal_api.storage import WriteOptions
from liftbit_common.rules import token_digest
from metadata_ms.service.nodes import decode_cursor, encode_cursor

TOKEN_TTL = timedelta(hours=1)


@dataclass
class FakeAccount:
    password: str
    quota_bytes: int | None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    role: Role = "user"
    disabled: bool = False
    last_login_at: datetime | None = None


@dataclass
class FakeToken:
    """A session (a login) or an API token, as metadata_ms's tokens table keeps it."""

    username: str
    expires_at: datetime | None
    kind: Literal["session", "api"] = "session"
    scope: Literal["read", "full"] = "full"
    name: str | None = None
    client: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeSecret:
    """An invite or a password reset: single use, expiring (the fake keys them by token hash)."""

    id: str
    expires_at: datetime
    username: str | None = None
    quota_bytes: int | None = None
    used: bool = False


@dataclass
class FakeContent:
    number: int
    object_key: str
    size: int
    sha256: str
    content_type: str
    created_at: datetime


@dataclass
class FakeNode:
    """A file or folder; ``contents`` of a file oldest first, the last one current."""

    id: int
    owner: str
    path: str
    type: str
    created_at: datetime
    updated_at: datetime
    contents: list[FakeContent] = field(default_factory=list)
    trashed_in: int | None = None
    deleted_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def parent(self) -> str | None:
        return self.path.rpartition("/")[0] or None

    def is_below(self, folder: str) -> bool:
        return self.path.startswith(folder + "/")


@dataclass
class FakeLink:
    stored: StoredLink
    token_hash: str
    password: str | None  # the fake compares in the clear; metadata_ms keeps an argon2 hash


class FakeMetadata:
    """metadata_ms in dictionaries; ``downloads`` records what would be download events. The tree
    keeps metadata_ms's rules that files_ms's answers depend on (the access rule, 404/409/422)."""

    def __init__(
        self,
        quota_bytes: int | None = None,
        versions_kept: int = 10,
        registration: Literal["open", "invite", "closed"] = "open",
    ) -> None:
        self.quota_bytes = quota_bytes
        self.versions_kept = versions_kept
        self.registration = registration
        self.accounts: dict[str, FakeAccount] = {}
        self.tokens: dict[str, FakeToken] = {}  # token digest → token
        self.invites: dict[str, FakeSecret] = {}  # token digest → invite
        self.resets: dict[str, FakeSecret] = {}  # token digest → reset (username set)
        self.audit_log: list[AuditEntry] = []
        self.nodes: dict[int, FakeNode] = {}
        self.grants: dict[int, set[str]] = {}
        self.uploads: dict[uuid.UUID, UploadState] = {}
        self.upload_writers: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}  # upload → writer, until
        self.deletions: list[ObjectRef] = []
        self.downloads: list[tuple[str, DownloadRecord]] = []
        self.share_links: dict[str, FakeLink] = {}  # link id → link
        self.link_downloads: list[tuple[str, LinkDownload]] = []
        self.health = {"metadata_ms": "ok", "postgres": "ok", "broker": "ok"}
        self._ids = itertools.count(1)

    async def health_checks(self) -> dict[str, str]:
        return dict(self.health)

    def _account(self, username: str) -> FakeAccount:
        if username not in self.accounts:
            raise NotFound(f"user {username!r} does not exist", code=ErrorCode.USER_NOT_FOUND)
        return self.accounts[username]

    def _live(self, owner: str, path: str) -> FakeNode | None:
        return next(
            (n for n in self.nodes.values() if n.owner == owner and n.path == path and n.trashed_in is None), None
        )

    def current(self, owner: str, path: str) -> FakeContent:
        """The current content of the live file at ``path`` (for assertions)."""
        node = self._live(owner, path)
        assert node is not None
        assert node.contents
        return node.contents[-1]

    def _may_read(self, node: FakeNode, reader: str) -> bool:
        if node.trashed_in is not None:
            return False
        if node.owner == reader:
            return True
        return any(
            reader in names
            and (granted := self.nodes.get(node_id)) is not None
            and granted.trashed_in is None
            and granted.owner == node.owner
            and (granted.id == node.id or node.is_below(granted.path))
            for node_id, names in self.grants.items()
        )

    def _used_bytes(self, username: str) -> int:
        return sum(c.size for n in self.nodes.values() if n.owner == username for c in n.contents)

    def _info(self, node: FakeNode) -> NodeInfo:
        if node.type == "file":
            current = node.contents[-1]
            return FileInfo(
                id=str(node.id),
                owner=node.owner,
                path=node.path,
                filename=node.name,
                size=current.size,
                content_type=current.content_type,
                sha256=current.sha256,
                created_at=node.created_at,
                updated_at=node.updated_at,
            )
        below = [
            n for n in self.nodes.values() if n.owner == node.owner and n.trashed_in is None and n.is_below(node.path)
        ]
        return FolderInfo(
            id=str(node.id),
            owner=node.owner,
            path=node.path,
            name=node.name,
            created_at=node.created_at,
            updated_at=node.updated_at,
            item_count=sum(n.parent == node.path for n in below),
            total_size=sum(n.contents[-1].size for n in below if n.type == "file"),
        )

    def _stored(self, node: FakeNode) -> StoredNode:
        return StoredNode(node=self._info(node), object_key=node.contents[-1].object_key if node.contents else None)

    def _by_id(self, node_id: str, reader: str) -> FakeNode:
        node = self.nodes.get(int(node_id)) if node_id.isdigit() else None
        if node is None or not self._may_read(node, reader):
            raise NotFound(f"no file or folder with id {node_id!r}", code=ErrorCode.FILE_NOT_FOUND)
        return node

    def _ensure_folder(self, owner: str, path: str | None) -> None:
        if path is None:
            return
        segments = path.split("/")
        for depth in range(1, len(segments) + 1):
            prefix = "/".join(segments[:depth])
            existing = self._live(owner, prefix)
            if existing is None:
                self._add(owner, prefix, "folder")
            elif existing.type == "file":
                raise Conflict(f"{prefix!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)

    def _add(self, owner: str, path: str, kind: str) -> FakeNode:
        now = datetime.now(UTC)
        node = FakeNode(id=next(self._ids), owner=owner, path=path, type=kind, created_at=now, updated_at=now)
        self.nodes[node.id] = node
        return node

    def _page(self, nodes: list[FakeNode], limit: int, cursor: str | None) -> tuple[list[FakeNode], str | None]:
        after = decode_cursor(cursor) if cursor else None
        ordered = sorted((n for n in nodes if after is None or n.path > after), key=lambda n: n.path.encode())
        page = ordered[:limit]
        return page, encode_cursor(page[-1].path) if len(ordered) > limit else None

    async def register(self, new_user: NewAccount) -> UserCreated:
        if self.registration == "closed":
            raise Forbidden("registration is closed", code=ErrorCode.REGISTRATION_CLOSED)
        if self.registration == "invite" and new_user.invite_hash is None:
            raise Forbidden("an invitation is needed", code=ErrorCode.INVITE_REQUIRED)
        if new_user.username in self.accounts:
            raise Conflict(f"username {new_user.username!r} is taken", code=ErrorCode.USERNAME_TAKEN)
        quota = self.quota_bytes
        if new_user.invite_hash is not None:
            invite = self._usable(self.invites, new_user.invite_hash, "invite")
            if invite.username is not None and invite.username != new_user.username:
                raise Forbidden("this invitation is for another username", code=ErrorCode.INVITE_FOR_ANOTHER_USER)
            invite.used = True
            quota = invite.quota_bytes if invite.quota_bytes is not None else quota
        self.accounts[new_user.username] = FakeAccount(new_user.password, quota)
        return UserCreated(username=new_user.username)

    @staticmethod
    def _usable(
        secrets_by_hash: dict[str, FakeSecret], token_hash: str, kind: Literal["invite", "reset"]
    ) -> FakeSecret:
        secret = secrets_by_hash.get(token_hash)
        if secret is None:
            code = ErrorCode.INVITE_NOT_FOUND if kind == "invite" else ErrorCode.RESET_NOT_FOUND
            raise NotFound(f"no such {kind}", code=code)
        if secret.used:
            raise Gone(
                f"this {kind} was used", code=ErrorCode.INVITE_USED if kind == "invite" else ErrorCode.RESET_USED
            )
        if secret.expires_at <= datetime.now(UTC):
            code = ErrorCode.INVITE_EXPIRED if kind == "invite" else ErrorCode.RESET_EXPIRED
            raise Gone(f"this {kind} expired", code=code)
        return secret

    async def describe_user(self, username: str) -> UserInfo:
        account = self._account(username)
        return UserInfo(
            username=username,
            created_at=account.created_at,
            used_bytes=self._used_bytes(username),
            quota_bytes=account.quota_bytes,
            file_count=self._file_count(username),
        )

    def _file_count(self, username: str) -> int:
        return sum(n.owner == username and n.type == "file" and n.trashed_in is None for n in self.nodes.values())

    async def remove_user(self, username: str) -> RemovedAccount:
        account = self._account(username)
        if account.role == "admin" and not account.disabled:
            self._keep_an_admin(username)
        owned = [n for n in self.nodes.values() if n.owner == username]
        doomed = [ObjectRef(object_key=key) for key in sorted({c.object_key for n in owned for c in n.contents})]
        files = [n for n in owned if n.type == "file"]
        tokens = sum(t.username == username for t in self.tokens.values())
        report = DeletionReport(
            username=username,
            files=len(files),
            folders=len(owned) - len(files),
            bytes=sum(n.contents[-1].size for n in files),
            versions=sum(len(n.contents) - 1 for n in files),
            grants=sum(len(self.grants.get(n.id, ())) for n in owned),
            links=sum(link.stored.owner == username for link in self.share_links.values()),
            tokens=tokens,
            objects=len(doomed),
        )
        for node in owned:
            del self.nodes[node.id]
            self.grants.pop(node.id, None)
        self.grants = {node_id: {g for g in names if g != username} for node_id, names in self.grants.items()}
        self.tokens = {digest: t for digest, t in self.tokens.items() if t.username != username}
        del self.accounts[username]
        return RemovedAccount(objects=doomed, report=report)

    async def issue_token(self, credentials: LoginAttempt) -> IssuedToken:
        account = self.accounts.get(credentials.username)
        if account is None or account.password != credentials.password:
            raise Unauthorized("incorrect username or password", code=ErrorCode.INVALID_CREDENTIALS)
        if account.disabled:
            raise account_disabled()
        token = secrets.token_urlsafe(32)
        account.last_login_at = datetime.now(UTC)
        self.tokens[token_digest(token)] = FakeToken(
            username=credentials.username, expires_at=datetime.now(UTC) + TOKEN_TTL, client=credentials.client
        )
        return IssuedToken(access_token=token, expires_in=int(TOKEN_TTL.total_seconds()))

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        token = self.tokens.get(token_hash)
        if token is None or (token.expires_at is not None and token.expires_at <= datetime.now(UTC)):
            raise Unauthorized()
        account = self._account(token.username)
        if account.disabled:
            raise account_disabled()
        return TokenOwner(username=token.username, expires_at=token.expires_at, role=account.role, scope=token.scope)

    async def revoke_token(self, token_hash: str) -> None:
        self.tokens.pop(token_hash, None)

    def add_admin(self, username: str, password: str) -> None:
        """What metadata_ms's start does with LIFTBIT_ADMIN_USER and LIFTBIT_ADMIN_PASSWORD."""
        self.accounts[username] = FakeAccount(password, self.quota_bytes, role="admin")

    async def change_password(self, username: str, change: PasswordChangeRequest) -> None:
        account = self._account(username)
        if account.password != change.current_password:
            raise Forbidden("the current password is not right", code=ErrorCode.WRONG_PASSWORD)
        account.password = change.new_password
        self.tokens = {h: t for h, t in self.tokens.items() if t.username != username or h == change.keep_token_hash}

    async def reset_password(self, reset: ResetByHash) -> UserCreated:
        secret = self._usable(self.resets, reset.token_hash, "reset")
        secret.used = True
        assert secret.username is not None
        self._account(secret.username).password = reset.new_password
        self.tokens = {h: t for h, t in self.tokens.items() if t.username != secret.username}
        return UserCreated(username=secret.username)

    def _live_tokens(self, username: str, kind: str) -> list[tuple[str, FakeToken]]:
        now = datetime.now(UTC)
        return [
            (h, t)
            for h, t in self.tokens.items()
            if t.username == username and t.kind == kind and (t.expires_at is None or t.expires_at > now)
        ]

    async def sessions(self, username: str, current_hash: str) -> list[SessionInfo]:
        self._account(username)
        return [
            SessionInfo(
                id=t.id,
                created_at=t.created_at,
                last_used_at=None,
                expires_at=t.expires_at,
                client=t.client,
                current=h == current_hash,
            )
            for h, t in self._live_tokens(username, "session")
        ]

    def _revoke(self, username: str, token_id: str, kind: str) -> None:
        self._account(username)
        found = [h for h, t in self._live_tokens(username, kind) if t.id == token_id]
        if not found:
            raise NotFound(f"no {kind} {token_id!r}", code=ErrorCode.SESSION_NOT_FOUND)
        del self.tokens[found[0]]

    async def revoke_session(self, username: str, session_id: str) -> None:
        self._revoke(username, session_id, "session")

    async def revoke_sessions(self, username: str, keep_hash: str) -> None:
        for h, _ in self._live_tokens(username, "session"):
            if h != keep_hash:
                del self.tokens[h]

    async def create_api_token(self, username: str, request: ApiTokenRequest) -> ApiTokenInfo:
        self._account(username)
        if request.expires_at is not None and request.expires_at <= datetime.now(UTC):
            raise InvalidInput("expires_at must be in the future")
        token = FakeToken(
            username=username, expires_at=request.expires_at, kind="api", scope=request.scope, name=request.name
        )
        self.tokens[request.token_hash] = token
        return self._api_token_info(token)

    @staticmethod
    def _api_token_info(token: FakeToken) -> ApiTokenInfo:
        return ApiTokenInfo(
            id=token.id,
            name=token.name or "",
            scope=token.scope,
            created_at=token.created_at,
            last_used_at=None,
            expires_at=token.expires_at,
        )

    async def api_tokens(self, username: str) -> list[ApiTokenInfo]:
        self._account(username)
        return [self._api_token_info(t) for _, t in self._live_tokens(username, "api")]

    async def revoke_api_token(self, username: str, token_id: str) -> None:
        self._revoke(username, token_id, "api")

    def _audit(self, actor: str, action: str, target: str, detail: str | None = None) -> None:
        entry = AuditEntry(
            id=len(self.audit_log) + 1,
            actor=actor,
            action=action,
            target=target,
            detail=detail,
            occurred_at=datetime.now(UTC),
        )
        self.audit_log.append(entry)

    def _admin_user(self, username: str) -> AdminUser:
        account = self._account(username)
        return AdminUser(
            username=username,
            role=account.role,
            disabled=account.disabled,
            used_bytes=self._used_bytes(username),
            quota_bytes=account.quota_bytes,
            file_count=self._file_count(username),
            last_login_at=account.last_login_at,
            created_at=account.created_at,
        )

    async def admin_users(self) -> list[AdminUser]:
        return [self._admin_user(name) for name in sorted(self.accounts)]

    async def set_quota(self, username: str, quota_bytes: int | None, actor: str) -> AdminUser:
        self._account(username).quota_bytes = quota_bytes or None
        self._audit(actor, "quota_changed", username, f"quota_bytes={quota_bytes}")
        return self._admin_user(username)

    def _keep_an_admin(self, leaving: str) -> None:
        if not any(a.role == "admin" and not a.disabled for n, a in self.accounts.items() if n != leaving):
            raise last_admin()

    async def set_role(self, username: str, role: Role, actor: str) -> AdminUser:
        account = self._account(username)
        if account.role == "admin" and role != "admin":
            self._keep_an_admin(username)
        account.role = role
        self._audit(actor, "role_changed", username, f"role={role}")
        return self._admin_user(username)

    async def set_disabled(self, username: str, disabled: bool, actor: str) -> None:
        account = self._account(username)
        if disabled and account.role == "admin" and not account.disabled:
            self._keep_an_admin(username)
        account.disabled = disabled
        self._audit(actor, "user_disabled" if disabled else "user_enabled", username)

    async def admin_remove_user(self, username: str, actor: str) -> RemovedAccount:
        removed = await self.remove_user(username)
        self._audit(actor, "user_deleted", username)
        return removed

    async def create_invite(self, request: InviteRequest) -> InviteInfo:
        expires_at = request.expires_at or datetime.now(UTC) + timedelta(days=7)
        invite = FakeSecret(
            id=str(uuid.uuid4()), expires_at=expires_at, username=request.username, quota_bytes=request.quota_bytes
        )
        self.invites[request.token_hash] = invite
        self._audit(request.actor, "invite_created", request.username or "")
        return InviteInfo(id=invite.id, expires_at=expires_at, username=invite.username, quota_bytes=invite.quota_bytes)

    async def issue_reset(self, username: str, request: ResetRequest) -> IssuedReset:
        self._account(username)
        reset = FakeSecret(id=str(uuid.uuid4()), expires_at=datetime.now(UTC) + timedelta(days=1), username=username)
        self.resets[request.token_hash] = reset
        self._audit(request.actor, "password_reset_issued", username)
        return IssuedReset(username=username, expires_at=reset.expires_at)

    async def audit(self, limit: int, before: int | None) -> list[AuditEntry]:
        newest_first = [e for e in reversed(self.audit_log) if before is None or e.id < before]
        return newest_first[:limit]

    async def platform_totals(self) -> PlatformTotals:
        return PlatformTotals(
            users=len(self.accounts),
            admins=sum(a.role == "admin" for a in self.accounts.values()),
            disabled_users=sum(a.disabled for a in self.accounts.values()),
            files=sum(n.type == "file" and n.trashed_in is None for n in self.nodes.values()),
            bytes=sum(self._used_bytes(name) for name in self.accounts),
            uploads_today=sum(len(n.contents) for n in self.nodes.values()),
        )

    async def list_files(
        self, owner: str, limit: int, cursor: str | None, *, prefix: str | None, query: str | None
    ) -> Encoded[FilePage]:
        self._account(owner)
        files = [
            n
            for n in self.nodes.values()
            if n.owner == owner
            and n.type == "file"
            and n.trashed_in is None
            and (prefix is None or n.is_below(prefix))
            and (not query or query.casefold() in n.name.casefold())
        ]
        page, next_cursor = self._page(files, limit, cursor)
        return encoded(FilePage(items=[cast("FileInfo", self._info(n)) for n in page], next_cursor=next_cursor))

    async def readable(self, owner: str, path: str, reader: str) -> StoredNode:
        node = self._live(owner, path)
        if node is None or not self._may_read(node, reader):
            raise NotFound(f"{path!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
        return self._stored(node)

    async def readable_by_id(self, node_id: str, reader: str) -> StoredNode:
        return self._stored(self._by_id(node_id, reader))

    async def upload_allowance(self, owner: str, path: str, *, keep_existing: bool = False) -> UploadAllowance:
        account = self._account(owner)
        existing = None if keep_existing else self._live(owner, path)
        if existing is not None and existing.type == "folder":
            raise Conflict(f"{path!r} is a folder", code=ErrorCode.PATH_IS_A_FOLDER)
        if account.quota_bytes is None:
            return UploadAllowance(max_bytes=None)
        return UploadAllowance(max_bytes=max(0, account.quota_bytes - self._used_bytes(owner)))

    async def commit(self, owner: str, path: str, commit: FileCommit) -> CommitResult:
        account = self._account(owner)
        node = self._live(owner, path)
        if node is not None and node.type == "folder":
            raise Conflict(f"{path!r} is a folder", code=ErrorCode.PATH_IS_A_FOLDER)
        if account.quota_bytes is not None and self._used_bytes(owner) + commit.size > account.quota_bytes:
            raise PayloadTooLarge(
                f"storage quota of {account.quota_bytes} bytes exceeded", code=ErrorCode.QUOTA_EXCEEDED
            )
        created = node is None
        if node is None:
            self._ensure_folder(owner, path.rpartition("/")[0] or None)
            node = self._add(owner, path, "file")
        now = datetime.now(UTC)
        number = node.contents[-1].number + 1 if node.contents else 1
        node.contents.append(
            FakeContent(number, commit.object_key, commit.size, commit.sha256, commit.content_type, now)
        )
        node.updated_at = now
        for dropped in node.contents[: -self.versions_kept]:
            self.deletions.append(ObjectRef(object_key=dropped.object_key))
        del node.contents[: -self.versions_kept]
        if commit.upload_id is not None:
            self.uploads.pop(commit.upload_id, None)
        return CommitResult(file=cast("FileInfo", self._info(node)), created=created)

    async def record_download(self, node_id: str, record: DownloadRecord) -> None:
        self.downloads.append((node_id, record))

    async def make_folder(self, owner: str, path: str) -> FolderResult:
        self._account(owner)
        existing = self._live(owner, path)
        if existing is not None and existing.type == "file":
            raise Conflict(f"{path!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)
        self._ensure_folder(owner, path)
        folder = self._live(owner, path)
        assert folder is not None
        return FolderResult(folder=cast("FolderInfo", self._info(folder)), created=existing is None)

    async def children(
        self, owner: str, path: str | None, reader: str, limit: int, cursor: str | None
    ) -> Encoded[NodePage]:
        self._account(owner)
        if path is not None:
            folder = self._live(owner, path)
            if folder is None or not self._may_read(folder, reader):
                raise NotFound(f"{path!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
            if folder.type == "file":
                raise Conflict(f"{path!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)
        inside = [n for n in self.nodes.values() if n.owner == owner and n.trashed_in is None and n.parent == path]
        page, next_cursor = self._page(inside, limit, cursor)
        return encoded(NodePage(items=[self._info(n) for n in page], next_cursor=next_cursor))

    async def move(self, owner: str, request: MoveRequest) -> NodeInfo:
        node = self._live(owner, request.from_)
        if node is None:
            raise NotFound(f"{request.from_!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
        if node.type == "folder" and request.to.startswith(request.from_ + "/"):
            raise InvalidInput("cannot move a folder into itself", code=ErrorCode.MOVE_INTO_ITSELF)
        if self._live(owner, request.to) is not None:
            raise Conflict(f"{request.to!r} exists already", code=ErrorCode.TARGET_EXISTS)
        self._ensure_folder(owner, request.to.rpartition("/")[0] or None)
        for below in [
            n for n in self.nodes.values() if n.owner == owner and n.trashed_in is None and n.is_below(node.path)
        ]:
            below.path = request.to + below.path[len(node.path) :]
        node.path = request.to
        return self._info(node)

    async def trash(self, owner: str, path: str, kind: Literal["file", "folder"], actor: str) -> TrashEntry:
        node = self._live(owner, path)
        if node is None or node.type != kind:
            raise NotFound(f"{path!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
        info = self._info(node)
        now = datetime.now(UTC)
        for member in [
            n for n in self.nodes.values() if n.owner == owner and n.trashed_in is None and n.is_below(path)
        ]:
            member.trashed_in, member.deleted_at = node.id, now
        node.trashed_in, node.deleted_at = node.id, now
        return TrashEntry(
            id=str(node.id),
            type="file" if kind == "file" else "folder",
            path=path,
            size=info.size if isinstance(info, FileInfo) else info.total_size,
            deleted_at=now,
        )

    def _trash_roots(self, owner: str) -> list[FakeNode]:
        return [n for n in self.nodes.values() if n.owner == owner and n.trashed_in == n.id]

    def _trash_root(self, owner: str, entry_id: str) -> FakeNode:
        root = next((n for n in self._trash_roots(owner) if str(n.id) == entry_id), None)
        if root is None:
            raise NotFound(f"nothing with id {entry_id!r} in the trash", code=ErrorCode.TRASH_ENTRY_NOT_FOUND)
        return root

    async def trash_page(self, owner: str, limit: int, cursor: str | None) -> TrashPage:
        self._account(owner)
        roots = sorted(self._trash_roots(owner), key=lambda n: (n.deleted_at, n.id), reverse=True)
        entries = [
            TrashEntry(
                id=str(n.id),
                type="file" if n.type == "file" else "folder",
                path=n.path,
                size=sum(m.contents[-1].size for m in self.nodes.values() if m.trashed_in == n.id and m.contents),
                deleted_at=n.deleted_at or n.updated_at,
            )
            for n in roots
        ]
        return TrashPage(items=entries[:limit], next_cursor=None)

    async def restore(self, owner: str, entry_id: str, actor: str) -> NodeInfo:
        root = self._trash_root(owner, entry_id)
        if self._live(owner, root.path) is not None:
            raise Conflict(f"{root.path!r} is taken", code=ErrorCode.TARGET_EXISTS)
        self._ensure_folder(owner, root.parent)
        for member in [n for n in self.nodes.values() if n.trashed_in == root.id]:
            member.trashed_in = member.deleted_at = None
        return self._info(root)

    def _purge(self, roots: list[FakeNode]) -> RemovedObjects:
        doomed = {
            n.id: n
            for n in self.nodes.values()
            if any(
                n.id == root.id or (n.owner == root.owner and n.is_below(root.path) and n.trashed_in is not None)
                for root in roots
            )
        }
        for node_id in doomed:
            del self.nodes[node_id]
            self.grants.pop(node_id, None)
        kept = {c.object_key for n in self.nodes.values() for c in n.contents}
        objects = [
            ObjectRef(object_key=k) for k in sorted({c.object_key for n in doomed.values() for c in n.contents} - kept)
        ]
        self.deletions += objects
        return RemovedObjects(objects=objects)

    async def purge(self, owner: str, entry_id: str | None, actor: str) -> RemovedObjects:
        self._account(owner)
        return self._purge([self._trash_root(owner, entry_id)] if entry_id is not None else self._trash_roots(owner))

    async def purge_expired_trash(self, older_than_seconds: int) -> RemovedObjects:
        limit = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        return self._purge(
            [n for n in self.nodes.values() if n.trashed_in == n.id and n.deleted_at and n.deleted_at < limit]
        )

    def _version_info(self, node: FakeNode, content: FakeContent) -> VersionInfo:
        return VersionInfo(
            version=content.number,
            size=content.size,
            sha256=content.sha256,
            content_type=content.content_type,
            created_at=content.created_at,
            current=content is node.contents[-1],
        )

    def _file(self, node_id: str, reader: str) -> FakeNode:
        node = self._by_id(node_id, reader)
        if node.type != "file":
            raise NotFound(f"no file with id {node_id!r}", code=ErrorCode.FILE_NOT_FOUND)
        return node

    async def versions(self, node_id: str, reader: str) -> list[VersionInfo]:
        node = self._file(node_id, reader)
        return [self._version_info(node, c) for c in reversed(node.contents)]

    async def version(self, node_id: str, number: int, reader: str) -> StoredVersion:
        node = self._file(node_id, reader)
        content = next((c for c in node.contents if c.number == number), None)
        if content is None:
            raise NotFound(f"file {node_id} has no version {number}", code=ErrorCode.VERSION_NOT_FOUND)
        return StoredVersion(
            file=cast("FileInfo", self._info(node)),
            version=self._version_info(node, content),
            object_key=content.object_key,
        )

    async def restore_version(self, node_id: str, number: int, actor: str) -> CommitResult:
        stored = await self.version(node_id, number, actor)
        version = stored.version
        commit = FileCommit(
            object_key=stored.object_key,
            size=version.size,
            sha256=version.sha256,
            content_type=version.content_type,
            actor=actor,
        )
        return await self.commit(stored.file.owner, stored.file.path, commit)

    def _owned_node(self, node_id: str, owner: str) -> FakeNode:
        node = self._by_id(node_id, owner)
        if node.owner != owner:
            raise NotFound(f"no file or folder with id {node_id!r}", code=ErrorCode.FILE_NOT_FOUND)
        return node

    async def grantees(self, node_id: str, owner: str) -> list[str]:
        return sorted(self.grants.get(self._owned_node(node_id, owner).id, set()))

    async def grant(self, node_id: str, owner: str, grantee: str) -> None:
        if grantee == owner:
            raise InvalidInput(
                "the owner can always download their files; grant to another user", code=ErrorCode.GRANT_TO_OWNER
            )
        node = self._owned_node(node_id, owner)
        self._account(grantee)
        self.grants.setdefault(node.id, set()).add(grantee)

    async def revoke(self, node_id: str, owner: str, grantee: str) -> None:
        node = self._owned_node(node_id, owner)
        self._account(grantee)
        self.grants.get(node.id, set()).discard(grantee)

    async def owned_nodes(self, owner: str, node_ids: Sequence[str]) -> list[NodeInfo]:
        self._account(owner)
        wanted = set(node_ids)
        found = [n for n in self.nodes.values() if str(n.id) in wanted and n.owner == owner and n.trashed_in is None]
        return [self._info(n) for n in sorted(found, key=lambda n: n.path)]

    async def shared_with(self, username: str, query: str | None) -> list[NodeInfo]:
        self._account(username)
        if query:
            found = [
                n
                for n in self.nodes.values()
                if n.owner != username and self._may_read(n, username) and query.casefold() in n.name.casefold()
            ]
        else:
            found = [
                n
                for node_id, names in self.grants.items()
                if username in names
                if (n := self.nodes[node_id]).trashed_in is None
            ]
        return [self._info(n) for n in sorted(found, key=lambda n: (n.owner, n.path.encode()))]

    def _link_of(self, link_id: str, owner: str) -> FakeLink:
        link = self.share_links.get(link_id)
        if link is None or link.stored.owner != owner or link.stored.revoked_at is not None:
            raise NotFound("no such link", code=ErrorCode.LINK_NOT_FOUND)
        return link

    async def create_link(self, node_id: str, request: LinkRequest) -> StoredLink:
        node = self._by_id(node_id, request.owner)
        if node.owner != request.owner:
            raise NotFound(f"no file or folder with id {node_id!r}", code=ErrorCode.FILE_NOT_FOUND)
        if request.expires_at is not None and request.expires_at <= datetime.now(UTC):
            raise InvalidInput("expires_at: must be in the future")
        if request.upload_only and node.type != "folder":
            raise InvalidInput("upload_only: a file request needs a folder to upload into")
        stored = StoredLink(
            id=str(uuid.uuid4()),
            node_id=node_id,
            owner=request.owner,
            expires_at=request.expires_at,
            max_downloads=request.max_downloads,
            downloads=0,
            has_password=request.password is not None,
            upload_only=request.upload_only,
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        self.share_links[stored.id] = FakeLink(stored, request.token_hash, request.password)
        return stored

    async def links(self, node_id: str, owner: str, *, include_revoked: bool = False) -> list[StoredLink]:
        self._by_id(node_id, owner)
        return [
            link.stored
            for link in self.share_links.values()
            if link.stored.node_id == node_id and (include_revoked or link.stored.revoked_at is None)
        ]

    async def revoke_link(self, link_id: str, owner: str) -> None:
        link = self._link_of(link_id, owner)
        link.stored = link.stored.model_copy(update={"revoked_at": datetime.now(UTC)})

    async def resolve_link(self, token_hash: str, access: LinkAccess) -> ResolvedLink:
        link = next((link for link in self.share_links.values() if link.token_hash == token_hash), None)
        if link is None:
            raise NotFound("no such link", code=ErrorCode.LINK_NOT_FOUND)
        if self._account(link.stored.owner).disabled:
            raise Gone("the owner's account is disabled", code=ErrorCode.LINK_OWNER_DISABLED)
        node = self.nodes.get(int(link.stored.node_id or 0))
        if link.stored.revoked_at is not None or node is None or node.trashed_in is not None:
            raise Gone("this link no longer works", code=ErrorCode.LINK_REVOKED)
        checked = link.password is not None and access.password is not None
        if checked and access.password != link.password:
            raise Unauthorized("wrong password for this link", code=ErrorCode.WRONG_LINK_PASSWORD)
        return ResolvedLink(link=link.stored, node=self._stored(node), password_checked=checked)

    async def record_link_download(self, link_id: str, download: LinkDownload) -> StoredLink:
        link = self.share_links[link_id]
        if download.counted:
            if link.stored.used_up:
                raise link_used_up()
            link.stored = link.stored.model_copy(update={"downloads": link.stored.downloads + 1})
        self.link_downloads.append((link_id, download))
        return link.stored

    async def create_upload(self, owner: str, new: NewUpload) -> UploadState:
        self._account(owner)
        state = UploadState(**new.model_dump(), owner=owner, progress=UploadProgress(offset=0, parts=[], tail_key=None))
        self.uploads[new.id] = state
        return state

    async def get_upload(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        upload = self.uploads.get(upload_id)
        if upload is None or upload.owner != owner or upload.expires_at <= datetime.now(UTC):
            raise NotFound(f"upload {upload_id} not found or expired", code=ErrorCode.UPLOAD_NOT_FOUND)
        return upload

    async def advance_upload(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState:
        upload = await self.get_upload(owner, upload_id)
        if upload.progress.offset != update.expected_offset:
            raise Conflict(
                f"upload offset is {upload.progress.offset}, not {update.expected_offset}",
                code=ErrorCode.OFFSET_MISMATCH,
            )
        advanced = upload.model_copy(update={"progress": update.progress})
        self.uploads[upload_id] = advanced
        return advanced

    async def remove_upload(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        upload = await self.get_upload(owner, upload_id)
        del self.uploads[upload_id]
        return RemovedObjects(objects=[ObjectRef(object_key=upload.object_key, s3_upload_id=upload.s3_upload_id)])

    async def lease_upload(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> UploadState:
        upload = await self.get_upload(owner, upload_id)
        now = datetime.now(UTC)
        writer, until = self.upload_writers.get(upload_id, (lease.writer, now))
        if writer != lease.writer and until > now:
            raise Conflict("another request is still writing to this upload", code=ErrorCode.UPLOAD_BUSY)
        self.upload_writers[upload_id] = (lease.writer, now + timedelta(seconds=lease.seconds))
        return upload

    async def release_upload(self, owner: str, upload_id: uuid.UUID, writer: uuid.UUID) -> None:
        if self.upload_writers.get(upload_id, (None,))[0] == writer:
            del self.upload_writers[upload_id]

    async def due_deletions(self, limit: int) -> list[ObjectRef]:
        return self.deletions[:limit]

    async def deletions_done(self, keys: list[str]) -> None:
        self.deletions = [ref for ref in self.deletions if ref.object_key not in keys]

    async def unreferenced(self, keys: list[str]) -> list[str]:
        referenced = {c.object_key for n in self.nodes.values() for c in n.contents}
        referenced |= {u.object_key for u in self.uploads.values()}
        return [key for key in keys if key not in referenced]

    async def multipart_in_use(self, upload_ids: list[str]) -> set[str]:
        return {u.s3_upload_id for u in self.uploads.values()} & set(upload_ids)

    async def expire(self) -> int:
        now = datetime.now(UTC)
        expired = [upload_id for upload_id, u in self.uploads.items() if u.expires_at <= now]
        for upload_id in expired:
            del self.uploads[upload_id]
        return len(expired)


class FakeStorage:
    """storage_ms over a dictionary of objects, with its limits and checks on the way in."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.multipart: dict[str, tuple[str, bytearray]] = {}  # S3 upload id → (key, bytes so far)
        self._upload_ids = itertools.count(1)
        self.health = {"storage_ms": "ok", "s3": "ok"}

    async def health_checks(self) -> dict[str, str]:
        return dict(self.health)

    async def write(self, key: str, body: AsyncIterable[bytes], options: WriteOptions) -> WrittenObject:
        data = bytearray()
        async for chunk in body:
            data += chunk
            if options.max_bytes is not None and len(data) > options.max_bytes:
                raise PayloadTooLarge(f"body exceeds the limit of {options.max_bytes} bytes", code=ErrorCode.TOO_LARGE)
        if options.expected_size is not None and len(data) != options.expected_size:
            raise BadRequest(
                f"body has {len(data)} of the declared {options.expected_size} bytes", code=ErrorCode.INCOMPLETE_BODY
            )
        digest = hashlib.sha256(data).hexdigest()
        if options.expected_sha256 is not None and digest != options.expected_sha256:
            raise BadRequest(
                f"SHA-256 of the body is {digest}, the client declared {options.expected_sha256}",
                code=ErrorCode.DIGEST_MISMATCH,
            )
        self.objects[key] = bytes(data)
        return WrittenObject(key=key, size=len(data), sha256=digest)

    async def presigned_url(self, key: str, *, content_type: str, content_disposition: str) -> str:
        return f"http://s3.test/liftbit/{key}?X-Amz-Signature=fake"

    async def delete(self, objects: Sequence[ObjectRef]) -> None:
        for ref in objects:
            self.objects.pop(ref.object_key, None)
            if ref.s3_upload_id is not None:
                self.multipart.pop(ref.s3_upload_id, None)

    async def start_multipart(self, key: str, content_type: str) -> str:
        upload_id = f"multipart-{next(self._upload_ids)}"
        self.multipart[upload_id] = (key, bytearray())
        return upload_id

    async def append_parts(
        self, upload: UploadState, body: AsyncIterable[bytes], *, upload_checksum: str | None
    ) -> AppendedParts:
        _, data = self.multipart[upload.s3_upload_id]
        received = 0
        async for chunk in body:
            received += len(chunk)
            if upload.progress.offset + received > upload.length:
                raise PayloadTooLarge("the body goes past Upload-Length", code=ErrorCode.TOO_LARGE)
            data += chunk
        # One part per request: enough for files_ms, which only keeps the list.
        part = UploadPart(number=len(upload.progress.parts) + 1, etag=hashlib.md5(data).hexdigest())  # noqa: S324
        return AppendedParts(received=received, parts=[part], tail_key=None)

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadPart]) -> WrittenObject:
        _, data = self.multipart.pop(upload_id)
        self.objects[key] = bytes(data)
        return WrittenObject(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def stale_objects(self, older_than_seconds: int, start_after: str | None) -> StaleObjects:
        return StaleObjects(keys=sorted(key for key in self.objects if start_after is None or key > start_after))

    async def stale_multipart_uploads(self, older_than_seconds: int) -> list[StaleMultipartUpload]:
        return [StaleMultipartUpload(key=key, upload_id=upload_id) for upload_id, (key, _) in self.multipart.items()]


@dataclass(frozen=True)
class FakeDownload:
    """One counted download, as analytics_ms's fine rows hold it ('' for none)."""

    window_start: datetime
    owner: str
    file_id: str
    bytes: int
    link_id: str = ""
    client_address: str = ""


class FakeAnalytics:
    """analytics_ms's platform windows and its counted downloads, as lists the test fills."""

    def __init__(self) -> None:
        self.windows: list[DownloadWindow] = []
        self.downloads: list[FakeDownload] = []
        self.health = {"analytics_ms": "ok", "postgres": "ok", "streaming_query": "ok"}

    async def health_checks(self) -> dict[str, str]:
        return dict(self.health)

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]:
        return [
            w
            for w in self.windows
            if (since is None or w.window_start >= since) and (until is None or w.window_end <= until)
        ]

    def _in_range(self, since: datetime | None, until: datetime | None) -> list[FakeDownload]:
        window = timedelta(minutes=5)
        return [
            d
            for d in self.downloads
            if (since is None or d.window_start >= since) and (until is None or d.window_start + window <= until)
        ]

    async def node_stats(
        self, file_id: str | None, link_ids: Sequence[str], since: datetime | None, until: datetime | None
    ) -> NodeStats:
        """Totals and per-link totals only (windows are analytics_ms's own tests' business)."""
        chosen = [d for d in self._in_range(since, until) if d.file_id == file_id or d.link_id in link_ids]
        links = sorted({d.link_id for d in chosen if d.link_id})
        return NodeStats(
            downloads=len(chosen),
            bytes=sum(d.bytes for d in chosen),
            windows=[],
            links=[
                LinkTotals(
                    link_id=link,
                    downloads=sum(1 for d in chosen if d.link_id == link),
                    bytes=sum(d.bytes for d in chosen if d.link_id == link),
                    addresses=len({d.client_address for d in chosen if d.link_id == link and d.client_address}),
                    alert=False,
                )
                for link in links
            ],
        )

    async def owner_stats(self, owner: str, since: datetime | None, until: datetime | None, limit: int) -> UserStats:
        mine = [d for d in self._in_range(since, until) if d.owner == owner]
        per_file: dict[str, list[int]] = {}
        for d in mine:
            if d.file_id:
                totals = per_file.setdefault(d.file_id, [0, 0])
                totals[0] += 1
                totals[1] += d.bytes
        ranked = sorted(per_file.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        return UserStats(
            downloads=len(mine),
            bytes=sum(d.bytes for d in mine),
            top_files=[FileTotals(file_id=f, path=None, downloads=n, bytes=b) for f, (n, b) in ranked],
        )
