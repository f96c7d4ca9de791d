"""Which S3 objects are referenced, and which are due for deletion (read by the reconciler)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import ObjectRef
from metadata_ms.models import Node, ObjectDeletion, Token, Upload, Version


async def schedule_deletions(session: AsyncSession, objects: Sequence[ObjectRef], delete_after: datetime) -> None:
    """Record objects to remove from S3, in the transaction that stops referencing them."""
    if not objects:
        return
    statement = insert(ObjectDeletion).values(
        [{"object_key": o.object_key, "s3_upload_id": o.s3_upload_id, "delete_after": delete_after} for o in objects]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ObjectDeletion.object_key],
            set_={"delete_after": sa.func.least(ObjectDeletion.delete_after, statement.excluded.delete_after)},
        )
    )


def upload_objects(upload: Upload) -> list[ObjectRef]:
    """What an unfinished upload holds in S3: the multipart upload and the unaligned tail."""
    objects = [ObjectRef(object_key=upload.object_key, s3_upload_id=upload.s3_upload_id)]
    if upload.tail_key:
        objects.append(ObjectRef(object_key=upload.tail_key))
    return objects


class ObjectLedger:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def due_deletions(self, limit: int) -> list[ObjectRef]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(ObjectDeletion)
                .where(ObjectDeletion.delete_after <= sa.func.now())
                .order_by(ObjectDeletion.delete_after)
                .limit(limit)
            )
            return [ObjectRef(object_key=r.object_key, s3_upload_id=r.s3_upload_id) for r in rows]

    async def deletions_done(self, keys: Sequence[str]) -> None:
        async with self._sessions.begin() as session:
            await session.execute(sa.delete(ObjectDeletion).where(ObjectDeletion.object_key.in_(keys)))

    async def unreferenced(self, keys: Sequence[str]) -> list[str]:
        """The keys no file, version, upload or pending deletion refers to: orphans, when old enough."""
        if not keys:
            return []
        candidates = sa.func.unnest(sa.cast(list(keys), sa.ARRAY(sa.Text))).table_valued("key").render_derived()
        referenced = sa.union_all(
            sa.select(Node.object_key.label("key")).where(Node.object_key.is_not(None)),
            sa.select(Version.object_key),
            sa.select(Upload.object_key),
            sa.select(Upload.tail_key).where(Upload.tail_key.is_not(None)),
            sa.select(ObjectDeletion.object_key),
        ).subquery()
        query = sa.select(candidates.c.key).where(~sa.exists().where(referenced.c.key == candidates.c.key))
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def known_multipart_uploads(self, upload_ids: Sequence[str]) -> set[str]:
        """The S3 multipart upload ids that a resumable upload still uses."""
        if not upload_ids:
            return set()
        async with self._sessions() as session:
            rows = await session.scalars(sa.select(Upload.s3_upload_id).where(Upload.s3_upload_id.in_(upload_ids)))
            return set(rows)

    async def expire(self) -> int:
        """Drop expired resumable uploads (their objects go to the deletion queue) and expired tokens."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            expired = (await session.scalars(sa.delete(Upload).where(Upload.expires_at <= now).returning(Upload))).all()
            doomed = [ref for upload in expired for ref in upload_objects(upload)]
            await schedule_deletions(session, doomed, now)
            await session.execute(sa.delete(Token).where(Token.expires_at <= now))
        return len(expired)
