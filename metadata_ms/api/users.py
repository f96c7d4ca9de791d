from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftbit_common.contracts import (
    NewAccount,
    NodeInfo,
    RemovedAccount,
    UploadAllowance,
    UserCreated,
    UserInfo,
    Username,
)
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["users"])


@serve(router, api.REGISTER)
async def register(new_user: NewAccount, services: Services) -> UserCreated:
    return await services.accounts.register(new_user)


@serve(router, api.DESCRIBE_USER)
async def describe(username: Username, services: Services) -> UserInfo:
    return await services.accounts.describe(username)


@serve(router, api.REMOVE_USER)
async def remove(username: Username, services: Services) -> RemovedAccount:
    return await services.accounts.remove(username)


@serve(router, api.UPLOAD_ALLOWANCE)
async def upload_allowance(
    username: Username, query: Annotated[api.AllowanceQuery, Query()], services: Services
) -> UploadAllowance:
    return await services.catalog.upload_allowance(username, query.path, keep_existing=query.keep_existing)


@serve(router, api.SHARED_WITH)
async def shared_with(
    username: Username, query: Annotated[api.SharedQuery, Query()], services: Services
) -> list[NodeInfo]:
    return await services.catalog.shared_with(username, query.q, query.limit)


@serve(router, api.OWNED_NODES)
async def owned_nodes(owner: Username, body: api.NodeIds, services: Services) -> list[NodeInfo]:
    return await services.catalog.owned_nodes(owner, body.ids)
