"""What the reconciler asks: objects due for deletion, and which keys are still referenced."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftbit_common.contracts import ObjectKeys, ObjectRef
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["objects"])


@serve(router, api.DUE_DELETIONS)
async def due_deletions(query: Annotated[api.DeletionsQuery, Query()], services: Services) -> list[ObjectRef]:
    return await services.ledger.due_deletions(query.limit)


@serve(router, api.DELETIONS_DONE)
async def deletions_done(body: ObjectKeys, services: Services) -> None:
    await services.ledger.deletions_done(body.keys)


@serve(router, api.UNREFERENCED_OBJECTS)
async def unreferenced(body: ObjectKeys, services: Services) -> ObjectKeys:
    return ObjectKeys(keys=await services.ledger.unreferenced(body.keys))


@serve(router, api.MULTIPART_IN_USE)
async def multipart_in_use(body: ObjectKeys, services: Services) -> ObjectKeys:
    return ObjectKeys(keys=sorted(await services.ledger.known_multipart_uploads(body.keys)))


@serve(router, api.EXPIRE_UPLOADS)
async def expire(services: Services) -> api.ExpiryReport:
    return api.ExpiryReport(expired_uploads=await services.ledger.expire())
