from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from liftbit_common.contracts import (
    FileInfo,
    Filename,
    NewAccount,
    RemovedObjects,
    UploadAllowance,
    UserCreated,
    UserInfo,
    Username,
)
from metadata_ms.api.deps import Services

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def register(new_user: NewAccount, services: Services) -> UserCreated:
    return await services.accounts.register(new_user)


@router.get("/{username}")
async def describe(username: Username, services: Services) -> UserInfo:
    return await services.accounts.describe(username)


@router.delete("/{username}")
async def remove(username: Username, services: Services) -> RemovedObjects:
    return await services.accounts.remove(username)


@router.get("/{username}/allowance")
async def upload_allowance(
    username: Username, filename: Annotated[Filename, Query()], services: Services
) -> UploadAllowance:
    return await services.catalog.upload_allowance(username, filename)


@router.get("/{username}/shared")
async def shared_with(username: Username, services: Services) -> list[FileInfo]:
    return await services.catalog.shared_with(username)
