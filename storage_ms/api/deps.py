from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from storage_ms.service import ObjectService


async def lifespan_objects(request: Request) -> ObjectService:
    objects: ObjectService = request.app.state.objects
    return objects


Objects = Annotated[ObjectService, Depends(lifespan_objects)]
