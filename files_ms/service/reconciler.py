"""The sweeper that keeps S3 and metadata consistent after crashes and faults.

File states: an upload writes a new object under a fresh key (invisible: no metadata points at it),
then one metadata transaction points the file at it and queues the replaced object for deletion.
A crash before that commit leaves an unreferenced object; a crash mid-stream leaves an unfinished
multipart upload. This sweeper removes queued objects when due, unreferenced objects older than
the orphan grace, unknown multipart uploads older than the multipart grace, expired resumable
uploads, and trash entries older than TRASH_RETENTION_DAYS (with their versions and objects)."""

from __future__ import annotations

import asyncio

import structlog
from pydantic import BaseModel

from files_ms.clients.metadata import MetadataClient
from files_ms.clients.storage import StorageClient
from liftbit_common.contracts import ObjectRef
from liftbit_common.errors import LiftbitError

log = structlog.get_logger(__name__)


class SweepReport(BaseModel):
    expired_uploads: int = 0
    purged_trash_objects: int = 0
    deleted_objects: int = 0
    orphaned_objects: int = 0
    aborted_multipart_uploads: int = 0


class Reconciler:
    def __init__(
        self,
        metadata: MetadataClient,
        storage: StorageClient,
        *,
        orphan_grace_seconds: int,
        multipart_grace_seconds: int,
        trash_retention_seconds: int,
    ) -> None:
        self._metadata = metadata
        self._storage = storage
        self._orphan_grace = orphan_grace_seconds
        self._multipart_grace = multipart_grace_seconds
        self._trash_retention = trash_retention_seconds
        self._lock = asyncio.Lock()

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                report = await self.sweep()
            except LiftbitError as exc:  # a dependency is down: try again next round
                log.warning("sweep_failed", error=exc.message)
            else:
                if any(report.model_dump().values()):
                    log.info("sweep_done", **report.model_dump())

    async def sweep(self) -> SweepReport:
        async with self._lock:
            report = SweepReport(expired_uploads=await self._metadata.expire())
            # Purged entries' objects are queued as due now: the next step deletes them.
            purged = await self._metadata.purge_expired_trash(self._trash_retention)
            report.purged_trash_objects = len(purged.objects)
            report.deleted_objects = await self._delete_due()
            report.orphaned_objects = await self._delete_orphans()
            report.aborted_multipart_uploads = await self._abort_unknown_multipart()
            return report

    async def _delete_due(self) -> int:
        deleted = 0
        while due := await self._metadata.due_deletions(limit=500):
            await self._storage.delete(due)
            await self._metadata.deletions_done([ref.object_key for ref in due])
            deleted += len(due)
        return deleted

    async def _delete_orphans(self) -> int:
        removed = 0
        start_after: str | None = None
        while True:
            page = await self._storage.stale_objects(self._orphan_grace, start_after)
            orphans = await self._metadata.unreferenced(page.keys)
            await self._storage.delete([ObjectRef(object_key=key) for key in orphans])
            removed += len(orphans)
            if page.next_start_after is None:
                return removed
            start_after = page.next_start_after

    async def _abort_unknown_multipart(self) -> int:
        stale = await self._storage.stale_multipart_uploads(self._multipart_grace)
        in_use = await self._metadata.multipart_in_use([u.upload_id for u in stale])
        unknown = [ObjectRef(object_key=u.key, s3_upload_id=u.upload_id) for u in stale if u.upload_id not in in_use]
        await self._storage.delete(unknown)
        return len(unknown)
