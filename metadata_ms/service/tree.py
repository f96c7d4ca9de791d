"""Folders, move and rename, and the trash: metadata only, bytes never move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from liftbit_common.contracts import (
    FolderInfo,
    FolderResult,
    MoveRequest,
    NodeInfo,
    NodePage,
    RemovedObjects,
    TrashEntry,
    TrashPage,
)
from liftbit_common.errors import Conflict, ErrorCode, InvalidInput, NotFound
from liftbit_common.events import EventType, FileEvent
from liftbit_common.names import parent_and_name, path_depth
from metadata_ms.models import Node, User
from metadata_ms.outbox import add_events
from metadata_ms.service.accounts import find_user
from metadata_ms.service.nodes import (
    FILE,
    FOLDER,
    LISTED_COLUMNS,
    PathLimits,
    below,
    decode_cursor,
    encode_cursor,
    ensure_folder,
    find_live,
    folder_stats,
    is_a_file,
    listed,
    live,
    node_info,
    not_found,
    parse_id,
    readable_by,
    release_nodes,
)

Owner = aliased(User)


def trash_entry_not_found(entry_id: str) -> NotFound:
    return NotFound(f"nothing with id {entry_id!r} in the trash", code=ErrorCode.TRASH_ENTRY_NOT_FOUND)


class Tree:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, limits: PathLimits, replaced_object_retention_seconds: int
    ) -> None:
        self._sessions = sessions
        self._limits = limits
        # Purged objects stay as long as replaced ones: a download already running finishes whole.
        self._retention = timedelta(seconds=replaced_object_retention_seconds)

    async def make_folder(self, owner: str, path: str) -> FolderResult:
        """Create the folder and any missing one above it; an existing folder is fine (200)."""
        self._limits.check(path)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            existing = await find_live(session, user.id, path)
            if existing is not None and existing.type == FILE:
                raise is_a_file(path)
            folder_id = await ensure_folder(session, user.id, path, now)
            folder = await session.get_one(Node, folder_id)
            info = node_info(folder, owner)
        assert isinstance(info, FolderInfo)
        return FolderResult(folder=info, created=existing is None)

    async def children(self, owner: str, path: str | None, reader: str, limit: int, cursor: str | None) -> NodePage:
        """The direct children of a folder (None: the top, the owner's alone), by name."""
        item_count, total_size = folder_stats()
        async with self._sessions() as session:
            user = await find_user(session, owner)
            stats = item_count.label("item_count"), total_size.label("total_size")
            select = sa.select(*LISTED_COLUMNS, *stats).where(Node.owner_id == user.id, live())
            if path is None:
                if reader != owner:
                    raise not_found(owner, "/")
                select = select.where(Node.parent_id.is_(None))
            else:
                folder = await session.scalar(
                    sa.select(Node).where(Node.owner_id == user.id, Node.path == path, readable_by(reader))
                )
                if folder is None:
                    raise not_found(owner, path)
                if folder.type != FOLDER:
                    raise Conflict(f"{path!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)
                select = select.where(Node.parent_id == folder.id)
            if cursor:
                select = select.where(Node.path > decode_cursor(cursor))
            rows = (await session.execute(select.order_by(Node.path).limit(limit + 1))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return NodePage(
            items=[node_info(listed(row), owner, row.item_count, row.total_size) for row in rows],
            next_cursor=encode_cursor(rows[-1].path) if more else None,
        )

    async def move(self, owner: str, request: MoveRequest) -> NodeInfo:
        """Rename or move a file or folder: its row, and for a folder one UPDATE of the paths below."""
        source, target = request.from_, request.to
        self._limits.check(target)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            node = await find_live(session, user.id, source, lock=True)
            if node is None:
                raise not_found(owner, source)
            if target == source:
                return await self._info(session, node, owner)
            if node.type == FOLDER and target.startswith(source + "/"):
                raise InvalidInput(
                    f"cannot move folder {source!r} into itself ({target!r})", code=ErrorCode.MOVE_INTO_ITSELF
                )
            if await find_live(session, user.id, target) is not None:
                raise Conflict(f"{target!r} exists already", code=ErrorCode.TARGET_EXISTS)
            self._check_subtree_limits(target, *await self._deepest_below(session, user.id, node))
            folders, name = parent_and_name(target)
            node.parent_id = await ensure_folder(session, user.id, folders, now)
            if node.type == FOLDER:
                await session.execute(
                    sa.update(Node)
                    .where(Node.owner_id == user.id, below(source), live())
                    .values(path=target + sa.func.substr(Node.path, len(source) + 1))
                    .execution_options(synchronize_session=False)
                )
            node.path, node.name, node.search_name, node.updated_at = target, name, name.casefold(), now
            try:
                await session.flush()
            except IntegrityError as exc:  # the unique live path: only if the checks above were raced
                raise Conflict(f"{target!r} exists already", code=ErrorCode.TARGET_EXISTS) from exc
            info = await self._info(session, node, owner)
            await add_events(session, [_event(EventType.MOVE, node, owner, info, request.actor, now)])
        return info

    async def _deepest_below(self, session: AsyncSession, owner_id: int, node: Node) -> tuple[int, int, Node]:
        """The greatest depth and byte length of a path at or below the node, for the limits."""
        if node.type == FILE:
            return path_depth(node.path), len(node.path.encode()), node
        depth, size = (
            await session.execute(
                sa.select(
                    sa.func.max(sa.func.length(Node.path) - sa.func.length(sa.func.replace(Node.path, "/", ""))),
                    sa.func.max(sa.func.octet_length(Node.path)),
                ).where(Node.owner_id == owner_id, below(node.path), live())
            )
        ).one()
        own_depth, own_size = path_depth(node.path), len(node.path.encode())
        return max(own_depth, (depth or 0) + 1), max(own_size, size or 0), node

    def _check_subtree_limits(self, target: str, depth: int, size: int, node: Node) -> None:
        self._limits.check(
            target,
            depth=path_depth(target) + depth - path_depth(node.path),
            size=len(target.encode()) + size - len(node.path.encode()),
        )

    async def _info(self, session: AsyncSession, node: Node, owner: str) -> NodeInfo:
        item_count, total_size = folder_stats()
        row = (await session.execute(sa.select(item_count, total_size).where(Node.id == node.id))).one()
        return node_info(node, owner, row[0], row[1])

    async def trash(self, owner: str, path: str, kind: str, actor: str) -> TrashEntry:
        """Move a file or folder (with all below it) to the trash: it keeps its path and parent."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            node = await find_live(session, user.id, path, lock=True)
            if node is None or node.type != kind:
                raise not_found(owner, path)
            info = await self._info(session, node, owner)
            if node.type == FOLDER:
                await session.execute(
                    sa.update(Node)
                    .where(Node.owner_id == user.id, below(path), live())
                    .values(trashed_in=node.id, deleted_at=now)
                    .execution_options(synchronize_session=False)
                )
            node.trashed_in, node.deleted_at = node.id, now
            await add_events(session, [_event(EventType.TRASH, node, owner, info, actor, now)])
            return _trash_entry(node, _size(info))

    async def trash_page(self, owner: str, limit: int, cursor: str | None) -> TrashPage:
        """What is in the trash, most recently deleted first."""
        async with self._sessions() as session:
            user = await find_user(session, owner)
            select = (
                sa.select(Node, _trashed_size())
                .where(Node.owner_id == user.id, Node.trashed_in == Node.id)
                .order_by(Node.deleted_at.desc(), Node.id.desc())
                .limit(limit + 1)
            )
            if cursor:
                deleted_at, node_id = _trash_cursor(cursor)
                select = select.where(sa.tuple_(Node.deleted_at, Node.id) < sa.tuple_(deleted_at, node_id))
            rows = (await session.execute(select)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1][0] if rows else None
        return TrashPage(
            items=[_trash_entry(node, size) for node, size in rows],
            next_cursor=encode_cursor(f"{last.deleted_at.isoformat()}|{last.id}")
            if more and last and last.deleted_at
            else None,
        )

    async def restore(self, owner: str, entry_id: str, actor: str) -> NodeInfo:
        """Put a trash entry back at its original path (re-creating folders above it); 409 if taken."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            node = await self._trash_root(session, user.id, entry_id)
            if await find_live(session, user.id, node.path) is not None:
                raise Conflict(f"{node.path!r} is taken; move that away first", code=ErrorCode.TARGET_EXISTS)
            folders, _ = parent_and_name(node.path)
            node.parent_id = await ensure_folder(session, user.id, folders, now)
            await session.execute(
                sa.update(Node)
                .where(Node.trashed_in == node.id)
                .values(trashed_in=None, deleted_at=None)
                .execution_options(synchronize_session=False)
            )
            await session.refresh(node)
            info = await self._info(session, node, owner)
            await add_events(session, [_event(EventType.RESTORE, node, owner, info, actor, now)])
            return info

    async def purge(self, owner: str, entry_id: str | None, actor: str) -> RemovedObjects:
        """Remove one trash entry (or the whole trash) for good; the objects go with it."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            if entry_id is not None:
                roots = [await self._trash_root(session, user.id, entry_id)]
            else:
                roots = list(
                    await session.scalars(sa.select(Node).where(Node.owner_id == user.id, Node.trashed_in == Node.id))
                )
            return await self._purge(session, user, roots, actor, now, delete_after=now + self._retention)

    async def purge_expired(self, older_than: timedelta) -> RemovedObjects:
        """The reconciler's round: trash entries deleted longer ago than TRASH_RETENTION_DAYS."""
        now = datetime.now(UTC)
        doomed = []
        async with self._sessions() as session:
            owners = list(
                await session.scalars(
                    sa.select(Node.owner_id)
                    .where(Node.trashed_in == Node.id, Node.deleted_at < now - older_than)
                    .distinct()
                )
            )
        for owner_id in owners:
            async with self._sessions.begin() as session:
                user = await session.scalar(sa.select(User).where(User.id == owner_id).with_for_update())
                if user is None:
                    continue
                roots = list(
                    await session.scalars(
                        sa.select(Node).where(
                            Node.owner_id == owner_id, Node.trashed_in == Node.id, Node.deleted_at < now - older_than
                        )
                    )
                )
                # Unreadable for the whole retention: no download can still be running, delete now.
                purged = await self._purge(session, user, roots, "system:trash-retention", now, delete_after=now)
                doomed += purged.objects
        return RemovedObjects(objects=doomed)

    async def _purge(
        self, session: AsyncSession, user: User, roots: list[Node], actor: str, now: datetime, *, delete_after: datetime
    ) -> RemovedObjects:
        if not roots:
            return RemovedObjects(objects=[])
        rows = await session.execute(sa.select(Node.id, _trashed_size()).where(Node.id.in_([r.id for r in roots])))
        sizes = {node_id: size for node_id, size in rows}
        events = [
            FileEvent(
                type=EventType.PURGE,
                owner=user.username,
                filename=root.name,
                size=sizes.get(root.id, 0),
                actor=actor,
                occurred_at=now,
                file_id=str(root.id),
                path=root.path,
            )
            for root in roots
        ]
        objects = await release_nodes(session, user, [r.id for r in roots], delete_after)
        await add_events(session, events)
        return RemovedObjects(objects=objects)

    async def _trash_root(self, session: AsyncSession, owner_id: int, entry_id: str) -> Node:
        node = await session.scalar(
            sa.select(Node)
            .where(Node.id == parse_id(entry_id), Node.owner_id == owner_id, Node.trashed_in == Node.id)
            .with_for_update()
        )
        if node is None:
            raise trash_entry_not_found(entry_id)
        return node


def _trashed_size() -> sa.ScalarSelect[int]:
    """Bytes of a trash entry: the current contents of what went to the trash with it."""
    member = aliased(Node)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(member.size), 0)).where(member.trashed_in == Node.id).scalar_subquery()
    )


def _trash_cursor(cursor: str) -> tuple[datetime, int]:
    deleted_at, _, node_id = decode_cursor(cursor).partition("|")
    try:
        return datetime.fromisoformat(deleted_at), int(node_id)
    except ValueError as exc:
        raise InvalidInput("cursor: not a cursor this API returned", code=ErrorCode.INVALID_CURSOR) from exc


def _size(info: NodeInfo) -> int:
    return info.total_size if isinstance(info, FolderInfo) else info.size


def _trash_entry(node: Node, size: int) -> TrashEntry:
    assert node.deleted_at is not None
    return TrashEntry(
        id=str(node.id),
        type="file" if node.type == FILE else "folder",
        path=node.path,
        size=size,
        deleted_at=node.deleted_at,
    )


def _event(kind: EventType, node: Node, owner: str, info: NodeInfo, actor: str, now: datetime) -> FileEvent:
    return FileEvent(
        type=kind,
        owner=owner,
        filename=node.name,
        size=_size(info),
        actor=actor,
        occurred_at=now,
        file_id=str(node.id),
        path=node.path,
    )
