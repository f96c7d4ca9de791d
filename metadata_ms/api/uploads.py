from __future__ import annotations

import uuid

from fastapi import APIRouter

from liftbit_common.contracts import NewUpload, ProgressUpdate, RemovedObjects, UploadLease, UploadState, Username
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["uploads"])


@serve(router, api.CREATE_UPLOAD)
async def create(owner: Username, body: NewUpload, services: Services) -> UploadState:
    return await services.uploads.create(owner, body)


@serve(router, api.GET_UPLOAD)
async def get(owner: Username, upload_id: uuid.UUID, services: Services) -> UploadState:
    return await services.uploads.get(owner, upload_id)


@serve(router, api.ADVANCE_UPLOAD)
async def advance(owner: Username, upload_id: uuid.UUID, body: ProgressUpdate, services: Services) -> UploadState:
    return await services.uploads.advance(owner, upload_id, body)


@serve(router, api.REMOVE_UPLOAD)
async def remove(owner: Username, upload_id: uuid.UUID, services: Services) -> RemovedObjects:
    return await services.uploads.remove(owner, upload_id)


@serve(router, api.LEASE_UPLOAD)
async def lease(owner: Username, upload_id: uuid.UUID, body: UploadLease, services: Services) -> UploadState:
    return await services.uploads.lease(owner, upload_id, body)


@serve(router, api.RELEASE_UPLOAD)
async def release(owner: Username, upload_id: uuid.UUID, writer: uuid.UUID, services: Services) -> None:
    await services.uploads.release(owner, upload_id, writer)
