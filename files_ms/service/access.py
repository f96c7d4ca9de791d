"""Who may do what: the one place where access decisions are made.

- A user-scoped path (``/users/{username}/…``) is for that user's own token only: otherwise 403.
- A file can be read (GET/HEAD) by its owner and by users the owner granted; anyone else gets
  404, the same answer as for a file that does not exist, so existence is not leaked.
- Writing, deleting and sharing a file, listing, and account deletion are the owner's alone.
"""

from __future__ import annotations

from files_ms.clients.protocols import Metadata
from liftbit_common.contracts import StoredFile
from liftbit_common.errors import ErrorCode, Forbidden


class AccessPolicy:
    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    @staticmethod
    def require_self(actor: str, username: str) -> None:
        if actor != username:
            raise Forbidden(
                f"this token belongs to {actor!r}; only {username!r} may do this", code=ErrorCode.NOT_YOUR_NAMESPACE
            )

    async def readable_file(self, actor: str, owner: str, filename: str) -> StoredFile:
        return await self._metadata.readable_file(owner, filename, reader=actor)
