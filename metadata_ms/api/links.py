"""Share links: created and revoked by their owner, resolved and counted for recipients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftbit_common.contracts import LinkAccess, LinkDownload, LinkRequest, ResolvedLink, StoredLink
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["links"])


@serve(router, api.CREATE_LINK)
async def create_link(node_id: str, body: LinkRequest, services: Services) -> StoredLink:
    return await services.links.create(node_id, body)


@serve(router, api.LINKS)
async def links(node_id: str, query: Annotated[api.LinksQuery, Query()], services: Services) -> list[StoredLink]:
    return await services.links.links(node_id, query.owner, include_revoked=query.include_revoked)


@serve(router, api.REVOKE_LINK)
async def revoke_link(link_id: str, query: Annotated[api.OwnerQuery, Query()], services: Services) -> None:
    await services.links.revoke(link_id, query.owner)


@serve(router, api.RESOLVE_LINK)
async def resolve_link(token_hash: str, body: LinkAccess, services: Services) -> ResolvedLink:
    return await services.links.resolve(token_hash, body)


@serve(router, api.RECORD_LINK_DOWNLOAD)
async def record_link_download(link_id: str, body: LinkDownload, services: Services) -> StoredLink:
    return await services.links.record_download(link_id, body)
