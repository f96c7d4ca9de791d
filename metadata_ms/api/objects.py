"""What the reconciler asks: objects due for deletion, and which keys are still referenced."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from liftbit_common.contracts import ObjectKeys, ObjectRef, RemovedObjects
from metadata_ms.api.deps import Services

router = APIRouter(tags=["objects"])


class ExpiryReport(BaseModel):
    expired_uploads: int


@router.get("/object-deletions")
async def due_deletions(services: Services, limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[ObjectRef]:
    return await services.ledger.due_deletions(limit)


@router.post("/object-deletions/done", status_code=status.HTTP_204_NO_CONTENT)
async def deletions_done(body: ObjectKeys, services: Services) -> None:
    await services.ledger.deletions_done(body.keys)


@router.post("/objects/unreferenced")
async def unreferenced(body: ObjectKeys, services: Services) -> ObjectKeys:
    return ObjectKeys(keys=await services.ledger.unreferenced(body.keys))


@router.post("/multipart-uploads/in-use")
async def multipart_in_use(body: ObjectKeys, services: Services) -> ObjectKeys:
    return ObjectKeys(keys=sorted(await services.ledger.known_multipart_uploads(body.keys)))


@router.post("/maintenance/expire")
async def expire(services: Services) -> ExpiryReport:
    return ExpiryReport(expired_uploads=await services.ledger.expire())


@router.post("/maintenance/purge-trash")
async def purge_expired_trash(services: Services, older_than_seconds: Annotated[int, Query(ge=0)]) -> RemovedObjects:
    """Trash entries deleted longer ago than this are purged; their objects are queued, due now."""
    return await services.tree.purge_expired(timedelta(seconds=older_than_seconds))
