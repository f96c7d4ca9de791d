from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from liftbit_common.contracts import (
    NewUpload,
    ProgressUpdate,
    RemovedObjects,
    UploadState,
    Username,
)
from metadata_ms.api.deps import Services

router = APIRouter(prefix="/users/{owner}/uploads", tags=["uploads"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(owner: Username, body: NewUpload, services: Services) -> UploadState:
    return await services.uploads.create(owner, body)


@router.get("/{upload_id}")
async def get(owner: Username, upload_id: uuid.UUID, services: Services) -> UploadState:
    return await services.uploads.get(owner, upload_id)


@router.patch("/{upload_id}")
async def advance(owner: Username, upload_id: uuid.UUID, body: ProgressUpdate, services: Services) -> UploadState:
    return await services.uploads.advance(owner, upload_id, body)


@router.delete("/{upload_id}")
async def remove(owner: Username, upload_id: uuid.UUID, services: Services) -> RemovedObjects:
    return await services.uploads.remove(owner, upload_id)
