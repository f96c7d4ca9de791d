"""Who may do what: the one place where access decisions are made.

- A user-scoped path (``/users/{username}/…`` without a file path: listing, search, the trash,
  moving, creating folders, the account) is for that user's own token only: otherwise 403.
- A file or folder can be read (download, HEAD, info, folder listing, versions' bytes) by its
  owner, by users the owner granted it to, and by users granted any folder above it (files added
  later included). Anyone else gets 404, the same answer as for a path or id that does not
  exist, so existence is not leaked. metadata_ms answers "may this reader read this node" with
  one SQL condition (``metadata_ms.service.nodes.readable_by``); a trashed node is no one's to read.
- Writing, deleting, moving, sharing, listing versions and restoring them are the owner's alone:
  by path a non-owner gets 403 (the path names someone else's namespace); by id a grantee gets
  403 (they know it exists) and anyone else 404.
"""

from __future__ import annotations

from files_ms.clients.metadata import MetadataClient
from liftbit_common.contracts import StoredFile, StoredNode
from liftbit_common.errors import Forbidden, NotFound


def not_a_file(path: str) -> NotFound:
    return NotFound(f"{path!r} is a folder, not a file: list it under /users/{{owner}}/folders/", code="not_a_file")


class AccessPolicy:
    def __init__(self, metadata: MetadataClient) -> None:
        self._metadata = metadata

    @staticmethod
    def require_self(actor: str, username: str) -> None:
        if actor != username:
            raise Forbidden(
                f"this token belongs to {actor!r}; only {username!r} may do this", code="not_your_namespace"
            )

    async def readable(self, actor: str, owner: str, path: str) -> StoredNode:
        return await self._metadata.readable(owner, path, reader=actor)

    async def readable_file(self, actor: str, owner: str, path: str) -> StoredFile:
        file = (await self.readable(actor, owner, path)).file()
        if file is None:
            raise not_a_file(path)
        return file

    async def readable_by_id(self, actor: str, node_id: str) -> StoredNode:
        return await self._metadata.readable_by_id(node_id, reader=actor)

    async def owned_by_id(self, actor: str, node_id: str) -> StoredNode:
        """The node, if the actor owns it: 403 for those who may only read it, 404 for others."""
        node = await self.readable_by_id(actor, node_id)
        if node.node.owner != actor:
            raise Forbidden("only the owner may do this", code="not_the_owner")
        return node
