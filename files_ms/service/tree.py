"""The file tree through files_ms: folders, move, trash, files by id and their versions."""

from __future__ import annotations

from files_ms.clients.protocols import Metadata
from files_ms.service.access import AccessPolicy
from files_ms.service.files import Conditions, Download, FileService
from liftbit_common.contracts import (
    CommitResult,
    FolderResult,
    Move,
    MoveRequest,
    NodeInfo,
    NodePage,
    StoredFile,
    TrashPage,
    VersionInfo,
)
from liftbit_common.internal_api.route import Encoded


class TreeService:
    def __init__(self, metadata: Metadata, access: AccessPolicy, files: FileService) -> None:
        self._metadata = metadata
        self._access = access
        self._files = files

    async def make_folder(self, actor: str, owner: str, path: str) -> FolderResult:
        self._access.require_self(actor, owner)
        return await self._metadata.make_folder(owner, path)

    async def children(
        self, actor: str, owner: str, path: str | None, limit: int, cursor: str | None
    ) -> Encoded[NodePage]:
        if path is None:  # the top of a namespace is its owner's alone
            self._access.require_self(actor, owner)
        return await self._metadata.children(owner, path, actor, limit, cursor)

    async def delete_folder(self, actor: str, owner: str, path: str) -> None:
        self._access.require_self(actor, owner)
        await self._metadata.trash(owner, path, "folder", actor)

    async def move(self, actor: str, owner: str, move: Move) -> NodeInfo:
        self._access.require_self(actor, owner)
        return await self._metadata.move(owner, MoveRequest(**move.model_dump(by_alias=True), actor=actor))

    async def trash_page(self, actor: str, owner: str, limit: int, cursor: str | None) -> TrashPage:
        self._access.require_self(actor, owner)
        return await self._metadata.trash_page(owner, limit, cursor)

    async def restore(self, actor: str, owner: str, entry_id: str) -> NodeInfo:
        self._access.require_self(actor, owner)
        return await self._metadata.restore(owner, entry_id, actor)

    async def purge(self, actor: str, owner: str, entry_id: str | None) -> None:
        """One entry (None: the whole trash), for good. The objects are queued for the reconciler
        after REPLACED_OBJECT_RETENTION_SECONDS, so that a download already running finishes whole."""
        self._access.require_self(actor, owner)
        await self._metadata.purge(owner, entry_id, actor)

    async def describe(self, actor: str, node_id: str) -> NodeInfo:
        return (await self._access.readable_by_id(actor, node_id)).node

    async def grantees(self, actor: str, node_id: str) -> list[str]:
        await self._access.owned_by_id(actor, node_id)
        return await self._metadata.grantees(node_id, actor)

    async def grant(self, actor: str, node_id: str, grantee: str) -> None:
        await self._access.owned_by_id(actor, node_id)
        await self._metadata.grant(node_id, actor, grantee)

    async def revoke(self, actor: str, node_id: str, grantee: str) -> None:
        await self._access.owned_by_id(actor, node_id)
        await self._metadata.revoke(node_id, actor, grantee)

    async def versions(self, actor: str, node_id: str) -> list[VersionInfo]:
        await self._access.owned_by_id(actor, node_id)
        return await self._metadata.versions(node_id, actor)

    async def download_version(self, actor: str, node_id: str, number: int, conditions: Conditions) -> Download:
        stored = await self._metadata.version(node_id, number, actor)
        version = stored.version
        file = StoredFile(
            **stored.file.model_dump(exclude={"size", "sha256", "content_type", "updated_at"}),
            size=version.size,
            sha256=version.sha256,
            content_type=version.content_type,
            updated_at=version.created_at,
            object_key=stored.object_key,
        )
        return await self._files.serve_to(actor, file, conditions)

    async def restore_version(self, actor: str, node_id: str, number: int) -> CommitResult:
        await self._access.owned_by_id(actor, node_id)
        return await self._metadata.restore_version(node_id, number, actor)
