"""State of resumable (tus) uploads: which S3 parts hold the bytes received so far."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    NewUpload,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    UploadPart,
    UploadProgress,
    UploadState,
)
from liftbit_common.errors import Conflict, NotFound
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
        progress=UploadProgress(
            offset=upload.offset,
            parts=[UploadPart.model_validate(p) for p in upload.parts],
            tail_key=upload.tail_key,
        ),
    )


def upload_not_found(upload_id: uuid.UUID) -> NotFound:
    return NotFound(f"upload {upload_id} not found or expired", code="upload_not_found")


class UploadRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(self, owner: str, new: NewUpload) -> UploadState:
        async with self._sessions.begin() as session:
            user = await find_user(session, owner)
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
                    f"upload offset is {upload.offset}, not {update.expected_offset}", code="offset_mismatch"
                )
            if upload.tail_key and upload.tail_key != update.progress.tail_key:
                await schedule_deletions(session, [ObjectRef(object_key=upload.tail_key)], datetime.now(UTC))
            upload.offset = update.progress.offset
            upload.parts = [p.model_dump() for p in update.progress.parts]
            upload.tail_key = update.progress.tail_key
            return _state(upload, owner)

    async def remove(self, owner: str, upload_id: uuid.UUID) -> RemovedObjects:
        """Forget the upload; its multipart upload and tail go to the deletion queue."""
        async with self._sessions.begin() as session:
            upload = await self._find(session, owner, upload_id, lock=True)
            doomed = upload_objects(upload)
            await schedule_deletions(session, doomed, datetime.now(UTC))
            await session.delete(upload)
        return RemovedObjects(objects=doomed)
