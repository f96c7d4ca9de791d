"""State of resumable (tus) uploads: which S3 parts hold the bytes received so far."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    NewUpload,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    UploadLease,
    UploadPart,
    UploadProgress,
    UploadState,
)
from liftbit_common.errors import Conflict, ErrorCode, PayloadTooLarge, TooManyRequests, upload_not_found
from metadata_ms.models import Upload, User
from metadata_ms.service.accounts import find_user
from metadata_ms.service.objects import schedule_deletions, upload_objects


def _state(upload: Upload, owner: str) -> UploadState:
    return UploadState(
        id=upload.id,
        owner=owner,
        path=upload.path,
        content_type=upload.content_type,
        length=upload.length,
        part_size=upload.part_size,
        object_key=upload.object_key,
        s3_upload_id=upload.s3_upload_id,
        metadata_header=upload.metadata_header,
        expires_at=upload.expires_at,
        link_id=upload.link_id,
        uploader_name=upload.uploader_name,
        progress=UploadProgress(
            offset=upload.offset,
            parts=[UploadPart.model_validate(p) for p in upload.parts],
            tail_key=upload.tail_key,
        ),
    )


def _owner_id(owner: str) -> sa.ScalarSelect[int]:
    return sa.select(User.id).where(User.username == owner).scalar_subquery()


async def reserved_bytes(session: AsyncSession, user_id: int, *, except_upload: uuid.UUID | None = None) -> int:
    """Bytes the user's unfinished, unexpired resumable uploads have declared (Upload-Length):
    reserved against the quota from creation to completion, termination or expiry."""
    query = sa.select(sa.func.coalesce(sa.func.sum(Upload.length), 0)).where(
        Upload.owner_id == user_id, Upload.expires_at > sa.func.now()
    )
    if except_upload is not None:
        query = query.where(Upload.id != except_upload)
    return int(await session.scalar(query) or 0)


class UploadRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_unfinished_per_user: int) -> None:
        self._sessions = sessions
        self._max_unfinished = max_unfinished_per_user

    async def create(self, owner: str, new: NewUpload) -> UploadState:
        """Register the upload and reserve its whole length against the quota (413 when used
        bytes and reservations would exceed it; 429 past the cap of unfinished uploads)."""
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)  # one reservation at a time
            unfinished = await session.scalar(
                sa.select(sa.func.count()).where(Upload.owner_id == user.id, Upload.expires_at > sa.func.now())
            )
            if (unfinished or 0) >= self._max_unfinished:
                raise TooManyRequests(
                    f"{unfinished} resumable uploads are unfinished, at most {self._max_unfinished} may be: "
                    "finish or terminate one first",
                    code=ErrorCode.TOO_MANY_UPLOADS,
                )
            if user.quota_bytes:
                # A replaced file's content stays as a version, so it frees nothing here.
                reserved = await reserved_bytes(session, user.id)
                if user.used_bytes + reserved + new.length > user.quota_bytes:
                    raise PayloadTooLarge(
                        f"storage quota of {user.quota_bytes} bytes exceeded: {user.used_bytes} used, "
                        f"{reserved} reserved by unfinished uploads, this upload declares {new.length}",
                        code=ErrorCode.QUOTA_EXCEEDED,
                    )
            upload = Upload(owner_id=user.id, offset=0, parts=[], tail_key=None, **new.model_dump())
            session.add(upload)
            await session.flush()
            return _state(upload, owner)

    async def _find(self, session: AsyncSession, owner: str, upload_id: uuid.UUID, *, lock: bool = False) -> Upload:
        query = (
            sa.select(Upload)
            .join(User, User.id == Upload.owner_id)
            .where(Upload.id == upload_id, User.username == owner, Upload.expires_at > sa.func.now())
        )
        upload = await session.scalar(query.with_for_update(of=Upload) if lock else query)
        if upload is None:
            raise upload_not_found(upload_id)
        return upload

    async def get(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        async with self._sessions() as session:
            return _state(await self._find(session, owner, upload_id), owner)

    async def advance(self, owner: str, upload_id: uuid.UUID, update: ProgressUpdate) -> UploadState:
        """Record progress if nobody moved the offset meanwhile (else 409)."""
        async with self._sessions.begin() as session:
            upload = await self._find(session, owner, upload_id, lock=True)
            if upload.offset != update.expected_offset:
                raise Conflict(
                    f"upload offset is {upload.offset}, not {update.expected_offset}", code=ErrorCode.OFFSET_MISMATCH
                )
            if upload.tail_key and upload.tail_key != update.progress.tail_key:
                await schedule_deletions(session, [ObjectRef(object_key=upload.tail_key)], datetime.now(UTC))
            upload.offset = update.progress.offset
            upload.parts = [p.model_dump() for p in update.progress.parts]
            upload.tail_key = update.progress.tail_key
            return _state(upload, owner)

    async def lease(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> UploadState:
        """Give ``lease.writer`` the upload for ``lease.seconds`` (taking it, or renewing its own
        lease) unless another writer's lease still runs (409 upload_busy). One statement, on the
        database's clock, so that every copy of every service agrees on when a lease lapsed."""
        now = sa.func.now()
        taken = (
            sa.update(Upload)
            .where(
                Upload.id == upload_id,
                Upload.owner_id == _owner_id(owner),
                Upload.expires_at > now,
                sa.or_(Upload.writer.is_(None), Upload.writer == lease.writer, Upload.writer_until <= now),
            )
            .values(writer=lease.writer, writer_until=now + sa.literal(timedelta(seconds=lease.seconds), sa.Interval))
            .returning(Upload)
        )
        async with self._sessions.begin() as session:
            upload = await session.scalar(taken)
            if upload is None:
                await self._find(session, owner, upload_id)  # 404 if it is not there at all
                raise Conflict("another request is still writing to this upload", code=ErrorCode.UPLOAD_BUSY)
            return _state(upload, owner)

    async def release(self, owner: str, upload_id: uuid.UUID, writer: uuid.UUID) -> None:
        """End ``writer``'s lease, if it still holds one (a finished upload is gone already)."""
        async with self._sessions.begin() as session:
            await session.execute(
                sa.update(Upload)
                .where(Upload.id == upload_id, Upload.owner_id == _owner_id(owner), Upload.writer == writer)
                .values(writer=None, writer_until=None)
            )

    async def remove(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        """Forget the upload; its multipart upload and tail go to the deletion queue."""
        async with self._sessions.begin() as session:
            upload = await self._find(session, owner, upload_id, lock=True)
            doomed = upload_objects(upload)
            await schedule_deletions(session, doomed, datetime.now(UTC))
            await session.delete(upload)
        return RemovedObjects(objects=doomed)
