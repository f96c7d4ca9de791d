"""The file tree's building blocks: finding nodes by path, the access rule, what a node looks like
to callers, creating missing folders, and freeing what nodes held."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from liftbit_common.contracts import FileInfo, FolderInfo, NodeInfo, ObjectRef, StoredNode
from liftbit_common.errors import Conflict, ErrorCode, InvalidInput, NotFound
from liftbit_common.names import parent_and_name, path_depth
from metadata_ms.models import Grant, Node, User, Version

FILE, FOLDER = "file", "folder"
# '0' is the byte after '/': in byte order ("C"), every path below folder p lies in (p + '/', p + '0').
_BELOW_END = "0"


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        key = ""
    if not key or "\x00" in key:
        raise InvalidInput("cursor: not a cursor this API returned", code=ErrorCode.INVALID_CURSOR)
    return key


def not_found(owner: str, path: str) -> NotFound:
    return NotFound(f"{path!r} of {owner!r} not found", code=ErrorCode.FILE_NOT_FOUND)


def node_not_found(node_id: str) -> NotFound:
    return NotFound(f"no file or folder with id {node_id!r}", code=ErrorCode.FILE_NOT_FOUND)


def parse_id(node_id: str) -> int:
    """Ids are opaque strings to callers; anything that is not one of ours is simply unknown."""
    if not node_id.isascii() or not node_id.isdigit() or len(node_id) > 18:
        raise node_not_found(node_id)
    return int(node_id)


def live() -> ColumnElement[bool]:
    return Node.trashed_in.is_(None)


def below(
    folder_path: str | InstrumentedAttribute[str], column: InstrumentedAttribute[str] | None = None
) -> ColumnElement[bool]:
    """Everything under a folder (``Node.path`` unless another column), as an index range."""
    path = Node.path if column is None else column
    return sa.and_(path > folder_path + "/", path < folder_path + _BELOW_END)


def user_id_of(username: str | sa.BindParameter[str]) -> sa.ScalarSelect[int]:
    return sa.select(User.id).where(User.username == username).scalar_subquery()


def readable_by(reader: str | sa.BindParameter[str]) -> ColumnElement[bool]:
    """THE access rule, in SQL: a live node may be read by its owner, by a grantee of the node,
    and by a grantee of any folder above it (a folder grant covers what is added later too)."""
    reader_id = user_id_of(reader)
    granted_node = aliased(Node)
    granted = (
        sa.select(Grant.node_id)
        .join(granted_node, granted_node.id == Grant.node_id)
        .where(
            Grant.grantee_id == reader_id,
            granted_node.owner_id == Node.owner_id,
            granted_node.trashed_in.is_(None),
            sa.or_(granted_node.id == Node.id, sa.func.starts_with(Node.path, granted_node.path + "/")),
        )
        .exists()
    )
    return sa.and_(live(), sa.or_(Node.owner_id == reader_id, granted))


@dataclass(frozen=True)
class PathLimits:
    max_depth: int
    max_bytes: int

    def check(self, path: str, *, depth: int | None = None, size: int | None = None) -> None:
        depth = path_depth(path) if depth is None else depth
        size = len(path.encode()) if size is None else size
        if depth > self.max_depth:
            raise InvalidInput(
                f"a path may have at most {self.max_depth} levels, this one has {depth}", code=ErrorCode.PATH_TOO_DEEP
            )
        if size > self.max_bytes:
            raise InvalidInput(
                f"a path may have at most {self.max_bytes} bytes, this one has {size}", code=ErrorCode.PATH_TOO_LONG
            )


class NodeFields(Protocol):
    """What a node's description reads: a Node, or a row of LISTED_COLUMNS."""

    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


# A long listing selects these rather than Node: building 1,000 ORM objects was a quarter of
# metadata_ms's CPU for a folder of 1,000 files (py-spy).
LISTED_COLUMNS = (
    Node.id,
    Node.type,
    Node.name,
    Node.path,
    Node.size,
    Node.content_type,
    Node.sha256,
    Node.created_at,
    Node.updated_at,
)


def listed(row: object) -> NodeFields:
    """A row whose first columns are LISTED_COLUMNS, read as the node it describes."""
    return cast("NodeFields", row)


def file_info(node: NodeFields, owner: str) -> FileInfo:
    assert node.size is not None
    assert node.content_type is not None
    assert node.sha256 is not None
    return FileInfo(
        id=str(node.id),
        owner=owner,
        path=node.path,
        filename=node.name,
        size=node.size,
        content_type=node.content_type,
        sha256=node.sha256,
        created_at=node.created_at,
        updated_at=node.updated_at,
    )


def folder_stats() -> tuple[sa.ScalarSelect[int], sa.ScalarSelect[int]]:
    """item_count and total_size of the folder ``Node`` in the enclosing query (0 for files)."""
    child, descendant = aliased(Node), aliased(Node)
    item_count = (
        sa.select(sa.func.count()).where(child.parent_id == Node.id, child.trashed_in.is_(None)).scalar_subquery()
    )
    total_size = (
        sa.select(sa.func.coalesce(sa.func.sum(descendant.size), 0))
        .where(
            descendant.owner_id == Node.owner_id,
            below(Node.path, descendant.path),
            descendant.trashed_in.is_(None),
        )
        .scalar_subquery()
    )
    is_folder = Node.type == FOLDER
    return (
        sa.case((is_folder, item_count), else_=0),  # type: ignore[return-value]
        sa.case((is_folder, total_size), else_=0),
    )


def node_info(node: NodeFields, owner: str, item_count: int = 0, total_size: int = 0) -> NodeInfo:
    if node.type == FILE:
        return file_info(node, owner)
    return FolderInfo(
        id=str(node.id),
        owner=owner,
        path=node.path,
        name=node.name,
        created_at=node.created_at,
        updated_at=node.updated_at,
        item_count=item_count,
        total_size=total_size,
    )


def stored(node: Node, owner: str, item_count: int = 0, total_size: int = 0) -> StoredNode:
    return StoredNode(node=node_info(node, owner, item_count, total_size), object_key=node.object_key)


async def find_live(session: AsyncSession, owner_id: int, path: str, *, lock: bool = False) -> Node | None:
    query = sa.select(Node).where(Node.owner_id == owner_id, Node.path == path, live())
    return await session.scalar(query.with_for_update() if lock else query)


def new_node(owner_id: int, parent_id: int | None, path: str, kind: str, now: datetime) -> Node:
    _, name = parent_and_name(path)
    return Node(
        owner_id=owner_id,
        parent_id=parent_id,
        type=kind,
        name=name,
        path=path,
        search_name=name.casefold(),
        created_at=now,
        updated_at=now,
    )


def ancestors(path: str) -> list[str]:
    """``["a", "a/b", "a/b/c"]`` for ``a/b/c``: the folder itself and every folder above it."""
    segments = path.split("/")
    return ["/".join(segments[: i + 1]) for i in range(len(segments))]


def is_a_file(path: str) -> Conflict:
    return Conflict(f"{path!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)


async def ensure_folder(session: AsyncSession, owner_id: int, path: str | None, now: datetime) -> int | None:
    """The id of the folder at ``path``, creating it and any missing folder above (None: the top).
    The caller holds the owner's row lock, so nobody else creates the same folders meanwhile."""
    if path is None:
        return None
    prefixes = ancestors(path)
    existing = {
        n.path: n
        for n in await session.scalars(
            sa.select(Node).where(Node.owner_id == owner_id, Node.path.in_(prefixes), live())
        )
    }
    parent_id: int | None = None
    for prefix in prefixes:
        node = existing.get(prefix)
        if node is None:
            node = new_node(owner_id, parent_id, prefix, FOLDER, now)
            session.add(node)
            await session.flush()
        elif node.type == FILE:
            raise is_a_file(prefix)
        parent_id = node.id
    return parent_id


# One statement, all in Postgres. Measured by bench/tree.py (on a machine at load ~20), the first
# version, which read the keys into Python and checked and queued them with 10,000 bound
# parameters a statement, took 7-22 s to purge a trash of 10,000 files.
_RELEASE_NODES = sa.text(
    """
    WITH RECURSIVE subtree AS (
        SELECT id FROM nodes WHERE id = ANY(:roots)
        UNION ALL SELECT n.id FROM nodes n JOIN subtree s ON n.parent_id = s.id
    ), held AS (
        SELECT object_key AS key, size FROM nodes WHERE id IN (SELECT id FROM subtree) AND object_key IS NOT NULL
        UNION ALL SELECT object_key, size FROM versions WHERE node_id IN (SELECT id FROM subtree)
    ), queued AS (
        INSERT INTO object_deletions (object_key, delete_after)
        SELECT DISTINCT key, :delete_after FROM held
        WHERE NOT EXISTS (SELECT 1 FROM nodes o WHERE o.object_key = held.key AND o.id NOT IN (SELECT id FROM subtree))
          AND NOT EXISTS (
              SELECT 1 FROM versions v WHERE v.object_key = held.key AND v.node_id NOT IN (SELECT id FROM subtree)
          )
        ON CONFLICT (object_key)
            DO UPDATE SET delete_after = least(object_deletions.delete_after, excluded.delete_after)
        RETURNING object_key
    ), released AS (
        DELETE FROM nodes WHERE id = ANY(:roots) RETURNING id  -- cascades below, to versions and grants
    )
    SELECT (SELECT coalesce(sum(size), 0) FROM held) AS freed,
           (SELECT coalesce(array_agg(object_key ORDER BY object_key), '{}') FROM queued) AS keys,
           (SELECT count(*) FROM released) AS released
    """
)


async def release_nodes(
    session: AsyncSession, user: User, root_ids: Sequence[int], delete_after: datetime
) -> list[ObjectRef]:
    """Delete these nodes with everything below them and their versions; free their bytes from the
    quota and queue the objects that nothing else refers to any more (a restored version shares
    its object with the file). Returns those objects."""
    if not root_ids:
        return []
    row = (await session.execute(_RELEASE_NODES, {"roots": list(root_ids), "delete_after": delete_after})).one()
    user.used_bytes -= int(row.freed)
    return [ObjectRef(object_key=key) for key in row.keys]


async def unreferenced_keys(session: AsyncSession, keys: set[str]) -> list[ObjectRef]:
    """The keys that no node and no version refers to (a restored version shares its object)."""
    if not keys:
        return []
    still = set(
        await session.scalars(
            sa.union(
                sa.select(Node.object_key).where(Node.object_key.in_(keys)),
                sa.select(Version.object_key).where(Version.object_key.in_(keys)),
            )
        )
    )
    return [ObjectRef(object_key=key) for key in sorted(keys - still)]
