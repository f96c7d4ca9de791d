"""Files and the grants on them. Every change writes its event to the outbox in the same transaction."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FileInfo,
    FilePage,
    ObjectRef,
    StoredFile,
    UploadAllowance,
)
from liftbit_common.errors import Conflict, ErrorCode, InvalidInput, NotFound, PayloadTooLarge
from liftbit_common.events import EventType, FileEvent
from metadata_ms.models import File, Grant, ObjectDeletion, Upload, User
from metadata_ms.outbox import add_events
from metadata_ms.service.accounts import find_user
from metadata_ms.service.objects import schedule_deletions
from metadata_ms.service.uploads import reserved_bytes

Owner = aliased(User)


def encode_cursor(filename: str) -> str:
    return base64.urlsafe_b64encode(filename.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        filename = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        filename = ""
    if not filename or "\x00" in filename:
        raise InvalidInput("cursor: not a cursor this API returned", code=ErrorCode.INVALID_CURSOR)
    return filename


def file_not_found(owner: str, filename: str) -> NotFound:
    return NotFound(f"file {filename!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)


def _stored(file: File, owner: str) -> StoredFile:
    return StoredFile(
        owner=owner,
        filename=file.filename,
        size=file.size,
        content_type=file.content_type,
        sha256=file.sha256,
        created_at=file.created_at,
        updated_at=file.updated_at,
        object_key=file.object_key,
    )


def _info(file: File, owner: str) -> FileInfo:
    return _stored(file, owner).public()


class Catalog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, replaced_object_retention_seconds: int) -> None:
        self._sessions = sessions
        self._retention = timedelta(seconds=replaced_object_retention_seconds)

    async def list_files(self, owner: str, limit: int, cursor: str | None) -> FilePage:
        async with self._sessions() as session:
            user = await find_user(session, owner)
            query = sa.select(File).where(File.owner_id == user.id).order_by(File.filename).limit(limit + 1)
            if cursor:
                query = query.where(File.filename > decode_cursor(cursor))
            files = list(await session.scalars(query))
        more = len(files) > limit
        files = files[:limit]
        return FilePage(
            items=[_info(f, owner) for f in files],
            next_cursor=encode_cursor(files[-1].filename) if more else None,
        )

    async def readable_file(self, owner: str, filename: str, reader: str) -> StoredFile:
        """The file, if ``reader`` is its owner or holds a grant on it; else 404 either way."""
        granted = sa.exists().where(
            Grant.file_id == File.id,
            Grant.grantee_id == sa.select(User.id).where(User.username == reader).scalar_subquery(),
        )
        query = (
            sa.select(File)
            .join(Owner, Owner.id == File.owner_id)
            .where(Owner.username == owner, File.filename == filename)
            .where(sa.or_(Owner.username == reader, granted))
        )
        async with self._sessions() as session:
            file = await session.scalar(query)
        if file is None:
            raise file_not_found(owner, filename)
        return _stored(file, owner)

    async def upload_allowance(self, owner: str, filename: str) -> UploadAllowance:
        async with self._sessions() as session:
            user = await find_user(session, owner)
            if not user.quota_bytes:
                return UploadAllowance(max_bytes=None)
            replaced = await session.scalar(
                sa.select(File.size).where(File.owner_id == user.id, File.filename == filename)
            )
            reserved = await reserved_bytes(session, user.id)
        return UploadAllowance(max_bytes=max(0, user.quota_bytes - user.used_bytes - reserved + (replaced or 0)))

    async def commit(self, owner: str, filename: str, commit: FileCommit) -> CommitResult:
        """Point owner/filename at a fully written object, atomically; the replaced object is
        kept for a while so downloads already running finish with the old content."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            file = await session.scalar(
                sa.select(File).where(File.owner_id == user.id, File.filename == filename).with_for_update()
            )
            if file is not None and file.object_key == commit.object_key:
                # The caller retries a commit whose answer it lost: it is done already. Going on
                # would queue the file's own object for deletion and publish a second event.
                return CommitResult(file=_info(file, owner), created=file.created_at == file.updated_at)
            if await session.scalar(sa.select(sa.exists().where(ObjectDeletion.object_key == commit.object_key))):
                # A late retry of a commit that a newer upload has replaced since: keep the newer one.
                raise Conflict("this upload was superseded by a newer one", code=ErrorCode.SUPERSEDED_UPLOAD)
            old_size = file.size if file else 0
            new_used = user.used_bytes - old_size + commit.size
            reserved = await reserved_bytes(session, user.id, except_upload=commit.upload_id) if user.quota_bytes else 0
            if user.quota_bytes and new_used + reserved > user.quota_bytes:
                raise PayloadTooLarge(
                    f"storage quota of {user.quota_bytes} bytes exceeded: {user.used_bytes} used, "
                    f"{reserved} reserved by unfinished uploads, this file needs {commit.size}",
                    code=ErrorCode.QUOTA_EXCEEDED,
                )
            created = file is None
            if file is None:
                file = File(owner_id=user.id, filename=filename, created_at=now)
                session.add(file)
            else:
                await schedule_deletions(session, [ObjectRef(object_key=file.object_key)], now + self._retention)
            file.object_key = commit.object_key
            file.size = commit.size
            file.sha256 = commit.sha256
            file.content_type = commit.content_type
            file.updated_at = now
            user.used_bytes = new_used
            if commit.upload_id is not None:
                finished = await session.scalar(
                    sa.delete(Upload).where(Upload.id == commit.upload_id, Upload.owner_id == user.id).returning(Upload)
                )
                if finished is not None and finished.tail_key:
                    await schedule_deletions(session, [ObjectRef(object_key=finished.tail_key)], now)
            await add_events(
                session,
                [
                    FileEvent(
                        type=EventType.UPLOAD,
                        owner=owner,
                        filename=filename,
                        size=commit.size,
                        actor=commit.actor,
                        occurred_at=now,
                    )
                ],
            )
            await session.flush()
            info = _info(file, owner)
        return CommitResult(file=info, created=created)

    async def delete(self, owner: str, filename: str, actor: str) -> ObjectRef:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            file = await session.scalar(
                sa.delete(File).where(File.owner_id == user.id, File.filename == filename).returning(File)
            )
            if file is None:
                raise file_not_found(owner, filename)
            user.used_bytes -= file.size
            doomed = ObjectRef(object_key=file.object_key)
            await schedule_deletions(session, [doomed], now)
            await add_events(
                session,
                [
                    FileEvent(
                        type=EventType.DELETE,
                        owner=owner,
                        filename=filename,
                        size=file.size,
                        actor=actor,
                        occurred_at=now,
                    )
                ],
            )
        return doomed

    async def record_download(self, owner: str, filename: str, record: DownloadRecord) -> None:
        async with self._sessions.begin() as session:
            await add_events(
                session,
                [
                    FileEvent(
                        type=EventType.DOWNLOAD, owner=owner, filename=filename, size=record.size, actor=record.actor
                    )
                ],
            )

    async def _owned_file(self, session: AsyncSession, owner: str, filename: str, *, lock: bool = False) -> File:
        """The file, 404 if absent. ``lock`` keeps it from being deleted until the transaction
        ends (a grant racing a delete then finds it gone, 404, instead of a foreign-key error)."""
        query = (
            sa.select(File)
            .join(User, User.id == File.owner_id)
            .where(User.username == owner, File.filename == filename)
        )
        if lock:
            query = query.with_for_update(of=File, key_share=True)
        file = await session.scalar(query)
        if file is None:
            raise file_not_found(owner, filename)
        return file

    async def grantees(self, owner: str, filename: str) -> list[str]:
        async with self._sessions() as session:
            file = await self._owned_file(session, owner, filename)
            rows = await session.scalars(
                sa.select(User.username)
                .join(Grant, Grant.grantee_id == User.id)
                .where(Grant.file_id == file.id)
                .order_by(User.username)
            )
            return list(rows)

    async def grant(self, owner: str, filename: str, grantee: str) -> None:
        if grantee == owner:
            raise InvalidInput(
                "the owner can always download their files; grant to another user", code=ErrorCode.GRANT_TO_OWNER
            )
        async with self._sessions.begin() as session:
            file = await self._owned_file(session, owner, filename, lock=True)
            user = await find_user(session, grantee, key_share=True)
            await session.execute(insert(Grant).values(file_id=file.id, grantee_id=user.id).on_conflict_do_nothing())

    async def revoke(self, owner: str, filename: str, grantee: str) -> None:
        async with self._sessions.begin() as session:
            file = await self._owned_file(session, owner, filename)
            user = await find_user(session, grantee)
            await session.execute(sa.delete(Grant).where(Grant.file_id == file.id, Grant.grantee_id == user.id))

    async def shared_with(self, username: str) -> list[FileInfo]:
        async with self._sessions() as session:
            user = await find_user(session, username)
            rows = await session.execute(
                sa.select(File, Owner.username)
                .join(Grant, Grant.file_id == File.id)
                .join(Owner, Owner.id == File.owner_id)
                .where(Grant.grantee_id == user.id)
                .order_by(Owner.username, File.filename)
            )
            return [_info(file, owner) for file, owner in rows]
