"""In-memory stand-ins for metadata_ms, storage_ms and analytics_ms, implementing the Protocols
files_ms's domain services depend on (files_ms/clients/protocols.py), for the in-process tier.

They keep the answers the real services give where files_ms's behaviour depends on them: the
same error classes and codes (404 for a file the reader may not see, 409 for a taken name, 413
past the quota or a size limit, 422 for a bad cursor), and the same cursor format. Bytes are held
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

from liftbit_common.contracts import (
    AppendedParts,
    CommitResult,
    DownloadRecord,
    DownloadWindow,
    FileCommit,
    FileInfo,
    FilePage,
    IssuedToken,
    LoginAttempt,
    NewAccount,
    NewUpload,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    StaleMultipartUpload,
    StaleObjects,
    StoredFile,
    TokenOwner,
    UploadAllowance,
    UploadPart,
    UploadProgress,
    UploadState,
    UserCreated,
    UserInfo,
    WrittenObject,
)
from liftbit_common.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from liftbit_common.internal_api.storage import WriteOptions
from liftbit_common.rules import token_digest
from metadata_ms.service.catalog import decode_cursor, encode_cursor

TOKEN_TTL = timedelta(hours=1)


@dataclass
class FakeAccount:
    password: str
    quota_bytes: int | None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeMetadata:
    """metadata_ms in dictionaries; ``downloads`` records what would be download events."""

    def __init__(self, quota_bytes: int | None = None) -> None:
        self.quota_bytes = quota_bytes
        self.accounts: dict[str, FakeAccount] = {}
        self.tokens: dict[str, TokenOwner] = {}  # token digest → owner
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.uploads: dict[uuid.UUID, UploadState] = {}
        self.deletions: list[ObjectRef] = []
        self.downloads: list[tuple[str, str, DownloadRecord]] = []
        self.health = {"metadata_ms": "ok", "postgres": "ok", "broker": "ok"}

    async def health_checks(self) -> dict[str, str]:
        return dict(self.health)

    def _account(self, username: str) -> FakeAccount:
        if username not in self.accounts:
            raise NotFound(f"user {username!r} does not exist", code=ErrorCode.USER_NOT_FOUND)
        return self.accounts[username]

    def _owned(self, owner: str, filename: str) -> StoredFile:
        if (owner, filename) not in self.files:
            raise NotFound(f"file {filename!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
        return self.files[owner, filename]

    def _used_bytes(self, username: str) -> int:
        return sum(file.size for (owner, _), file in self.files.items() if owner == username)

    async def register(self, new_user: NewAccount) -> UserCreated:
        if new_user.username in self.accounts:
            raise Conflict(f"username {new_user.username!r} is taken", code=ErrorCode.USERNAME_TAKEN)
        self.accounts[new_user.username] = FakeAccount(new_user.password, self.quota_bytes)
        return UserCreated(username=new_user.username)

    async def describe_user(self, username: str) -> UserInfo:
        account = self._account(username)
        return UserInfo(
            username=username,
            created_at=account.created_at,
            used_bytes=self._used_bytes(username),
            quota_bytes=account.quota_bytes,
            file_count=sum(owner == username for owner, _ in self.files),
        )

    async def remove_user(self, username: str) -> RemovedObjects:
        self._account(username)
        doomed = [ObjectRef(object_key=f.object_key) for (owner, _), f in self.files.items() if owner == username]
        self.files = {key: f for key, f in self.files.items() if key[0] != username}
        self.grants = {key: {g for g in names if g != username} for key, names in self.grants.items()}
        self.tokens = {digest: t for digest, t in self.tokens.items() if t.username != username}
        del self.accounts[username]
        return RemovedObjects(objects=doomed)

    async def issue_token(self, credentials: LoginAttempt) -> IssuedToken:
        account = self.accounts.get(credentials.username)
        if account is None or account.password != credentials.password:
            raise Unauthorized("incorrect username or password", code=ErrorCode.INVALID_CREDENTIALS)
        token = secrets.token_urlsafe(32)
        self.tokens[token_digest(token)] = TokenOwner(
            username=credentials.username, expires_at=datetime.now(UTC) + TOKEN_TTL
        )
        return IssuedToken(access_token=token, expires_in=int(TOKEN_TTL.total_seconds()))

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        owner = self.tokens.get(token_hash)
        if owner is None or owner.expires_at <= datetime.now(UTC):
            raise Unauthorized()
        return owner

    async def revoke_token(self, token_hash: str) -> None:
        self.tokens.pop(token_hash, None)

    async def list_files(self, owner: str, limit: int, cursor: str | None) -> FilePage:
        self._account(owner)
        after = decode_cursor(cursor) if cursor else None
        names = sorted(name for who, name in self.files if who == owner and (after is None or name > after))
        page = names[:limit]
        return FilePage(
            items=[self.files[owner, name].public() for name in page],
            next_cursor=encode_cursor(page[-1]) if len(names) > limit else None,
        )

    async def readable_file(self, owner: str, filename: str, reader: str) -> StoredFile:
        if reader != owner and reader not in self.grants.get((owner, filename), set()):
            raise NotFound(f"file {filename!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)
        return self._owned(owner, filename)

    async def upload_allowance(self, owner: str, filename: str) -> UploadAllowance:
        account = self._account(owner)
        if account.quota_bytes is None:
            return UploadAllowance(max_bytes=None)
        replaced = self.files[owner, filename].size if (owner, filename) in self.files else 0
        return UploadAllowance(max_bytes=max(0, account.quota_bytes - self._used_bytes(owner) + replaced))

    async def commit(self, owner: str, filename: str, commit: FileCommit) -> CommitResult:
        account = self._account(owner)
        previous = self.files.get((owner, filename))
        used = self._used_bytes(owner) - (previous.size if previous else 0) + commit.size
        if account.quota_bytes is not None and used > account.quota_bytes:
            raise PayloadTooLarge(
                f"storage quota of {account.quota_bytes} bytes exceeded", code=ErrorCode.QUOTA_EXCEEDED
            )
        now = datetime.now(UTC)
        stored = StoredFile(
            owner=owner,
            filename=filename,
            size=commit.size,
            content_type=commit.content_type,
            sha256=commit.sha256,
            created_at=previous.created_at if previous else now,
            updated_at=now,
            object_key=commit.object_key,
        )
        self.files[owner, filename] = stored
        if previous is not None:
            self.deletions.append(ObjectRef(object_key=previous.object_key))
        if commit.upload_id is not None:
            self.uploads.pop(commit.upload_id, None)
        return CommitResult(file=stored.public(), created=previous is None)

    async def delete_file(self, owner: str, filename: str, actor: str) -> ObjectRef:
        file = self._owned(owner, filename)
        del self.files[owner, filename]
        self.grants.pop((owner, filename), None)
        return ObjectRef(object_key=file.object_key)

    async def record_download(self, owner: str, filename: str, record: DownloadRecord) -> None:
        self.downloads.append((owner, filename, record))

    async def grantees(self, owner: str, filename: str) -> list[str]:
        self._owned(owner, filename)
        return sorted(self.grants.get((owner, filename), set()))

    async def grant(self, owner: str, filename: str, grantee: str) -> None:
        if grantee == owner:
            raise InvalidInput(
                "the owner can always download their files; grant to another user", code=ErrorCode.GRANT_TO_OWNER
            )
        self._owned(owner, filename)
        self._account(grantee)
        self.grants.setdefault((owner, filename), set()).add(grantee)

    async def revoke(self, owner: str, filename: str, grantee: str) -> None:
        self._owned(owner, filename)
        self._account(grantee)
        self.grants.get((owner, filename), set()).discard(grantee)

    async def shared_with(self, username: str) -> list[FileInfo]:
        self._account(username)
        shared = sorted(key for key, names in self.grants.items() if username in names and key in self.files)
        return [self.files[key].public() for key in shared]

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

    async def due_deletions(self, limit: int) -> list[ObjectRef]:
        return self.deletions[:limit]

    async def deletions_done(self, keys: list[str]) -> None:
        self.deletions = [ref for ref in self.deletions if ref.object_key not in keys]

    async def unreferenced(self, keys: list[str]) -> list[str]:
        referenced = {f.object_key for f in self.files.values()} | {u.object_key for u in self.uploads.values()}
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


class FakeAnalytics:
    """analytics_ms's windows, as a list the test fills."""

    def __init__(self) -> None:
        self.windows: list[DownloadWindow] = []
        self.health = {"analytics_ms": "ok", "postgres": "ok", "streaming_query": "ok"}

    async def health_checks(self) -> dict[str, str]:
        return dict(self.health)

    async def download_windows(self, since: datetime | None, until: datetime | None) -> list[DownloadWindow]:
        return [
            w
            for w in self.windows
            if (since is None or w.window_start >= since) and (until is None or w.window_end <= until)
        ]
