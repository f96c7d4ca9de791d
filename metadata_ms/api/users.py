from __future__ import annotations

from fastapi import APIRouter, status

from liftbit_common.contracts import (
    NewUser,
    RemovedObjects,
    UserCreated,
    UserInfo,
    Username,
)
from metadata_ms.api.deps import Services

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def register(new_user: NewUser, services: Services) -> UserCreated:
    return await services.accounts.register(new_user)


@router.get("/{username}")
async def describe(username: Username, services: Services) -> UserInfo:
    return await services.accounts.describe(username)


@router.delete("/{username}")
async def remove(username: Username, services: Services) -> RemovedObjects:
    return await services.accounts.remove(username)
