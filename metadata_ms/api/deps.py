"""How routes reach the services the lifespan built (one place, no module globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from metadata_ms.outbox import BrokerProducer, OutboxRelay
from metadata_ms.service.accounts import AccountService
from metadata_ms.service.admin import Administration
from metadata_ms.service.catalog import Catalog
from metadata_ms.service.links import LinkRegistry
from metadata_ms.service.objects import ObjectLedger
from metadata_ms.service.tree import Tree
from metadata_ms.service.uploads import UploadRegistry


@dataclass(frozen=True)
class MetadataServices:
    database: AsyncEngine
    accounts: AccountService
    admin: Administration
    catalog: Catalog
    tree: Tree
    uploads: UploadRegistry
    links: LinkRegistry
    ledger: ObjectLedger
    producer: BrokerProducer
    relay: OutboxRelay


async def lifespan_services(request: Request) -> MetadataServices:
    services: MetadataServices = request.app.state.services
    return services


Services = Annotated[MetadataServices, Depends(lifespan_services)]
