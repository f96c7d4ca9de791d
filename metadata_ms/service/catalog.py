"""Files (their current contents and earlier versions), the grants on files and folders, listing
and search. Every change writes its event to the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, aliased

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FileInfo,
    FilePage,
    NodeInfo,
    ObjectRef,
    StoredNode,
    StoredVersion,
    UploadAllowance,
    VersionInfo,
)
from liftbit_common.errors import Conflict, ErrorCode, InvalidInput, NotFound, PayloadTooLarge
from liftbit_common.events import EventType, FileEvent
from liftbit_common.names import parent_and_name
from metadata_ms.models import (
    Grant,
    Node,
    ObjectDeletion,
    Upload,
    User,
    Version,
)
from metadata_ms.outbox import add_events
from metadata_ms.service.accounts import find_user
from metadata_ms.service.nodes import (
    FILE,
    FOLDER,
    LISTED_COLUMNS,
    PathLimits,
    ancestors,
    below,
    decode_cursor,
    encode_cursor,
    ensure_folder,
    file_info,
    find_live,
    folder_stats,
    listed,
    live,
    new_node,
    node_info,
    node_not_found,
    not_found,
    parse_id,
    readable_by,
    stored,
    unreferenced_keys,
)
from metadata_ms.service.objects import schedule_deletions
from metadata_ms.service.uploads import reserved_bytes

Owner = aliased(User)


def _readable_nodes(*columns: sa.ColumnElement[Any] | InstrumentedAttribute[Any]) -> sa.Select[Any]:
    """A node (with its owner's name among ``columns``, if wanted, and its folder statistics) that
    ``:reader`` may read."""
    item_count, total_size = folder_stats()
    return (
        sa.select(Node, *columns, item_count, total_size)
        .join(Owner, Owner.id == Node.owner_id)
        .where(readable_by(sa.bindparam("reader")))
    )


# The hot paths' statements (every download asks one of the first two, then the third), built
# once: building them per request with their aliased subqueries cost more CPU in metadata_ms than
# running them (py-spy, 4 KiB downloads at 32 clients: 8 of 15 % of samples).
_READABLE_AT_PATH = _readable_nodes().where(Owner.username == sa.bindparam("owner"), Node.path == sa.bindparam("path"))
_READABLE_BY_ID = _readable_nodes(Owner.username).where(Node.id == sa.bindparam("node_id"))
_NODE_WITH_OWNER = (
    sa.select(Node, Owner.username).join(Owner, Owner.id == Node.owner_id).where(Node.id == sa.bindparam("node_id"))
)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def name_contains(text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring of the name; served by the trigram index on search_name."""
    return Node.search_name.like(like_pattern(text.casefold()), escape="\\")


def version_info(version: Version | Node) -> VersionInfo:
    """A kept version, or (given the node) the file's current content."""
    if isinstance(version, Node):
        number, created_at, current = version.version, version.updated_at, True
    else:
        number, created_at, current = version.number, version.created_at, False
    assert number is not None
    assert version.size is not None
    assert version.sha256 is not None
    assert version.content_type is not None
    return VersionInfo(
        version=number,
        size=version.size,
        sha256=version.sha256,
        content_type=version.content_type,
        created_at=created_at,
        current=current,
    )


class Catalog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        replaced_object_retention_seconds: int,
        versions_kept: int,
        limits: PathLimits,
    ) -> None:
        self._sessions = sessions
        self._retention = timedelta(seconds=replaced_object_retention_seconds)
        self._versions_kept = versions_kept
        self._limits = limits

    async def list_files(
        self, owner: str, limit: int, cursor: str | None, *, prefix: str | None = None, query: str | None = None
    ) -> FilePage:
        """Live files by path: all, those under ``prefix``, and/or those whose name contains ``query``."""
        async with self._sessions() as session:
            user = await find_user(session, owner)
            select = (
                sa.select(*LISTED_COLUMNS)
                .where(Node.owner_id == user.id, Node.type == FILE, live())
                .order_by(Node.path)
                .limit(limit + 1)
            )
            if prefix is not None:
                select = select.where(below(prefix))
            if query:
                select = select.where(name_contains(query))
            if cursor:
                select = select.where(Node.path > decode_cursor(cursor))
            rows = (await session.execute(select)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return FilePage(
            items=[file_info(listed(row), owner) for row in rows],
            next_cursor=encode_cursor(rows[-1].path) if more else None,
        )

    async def readable(self, owner: str, path: str, reader: str) -> StoredNode:
        """The node at ``path``, if ``reader`` may read it; else 404 either way."""
        async with self._sessions() as session:
            row = (await session.execute(_READABLE_AT_PATH, {"owner": owner, "path": path, "reader": reader})).first()
        if row is None:
            raise not_found(owner, path)
        return stored(row[0], owner, row[1], row[2])

    async def readable_by_id(self, node_id: str, reader: str) -> StoredNode:
        params = {"node_id": parse_id(node_id), "reader": reader}
        async with self._sessions() as session:
            row = (await session.execute(_READABLE_BY_ID, params)).first()
        if row is None:
            raise node_not_found(node_id)
        return stored(row[0], row[1], row[2], row[3])

    async def upload_allowance(self, owner: str, path: str, *, keep_existing: bool = False) -> UploadAllowance:
        """Checked before any byte is stored: the path's limits, that no folder is in the way of the
        file and no file in the way of its folders, and the bytes the quota leaves."""
        self._limits.check(path)
        async with self._sessions() as session:
            user = await find_user(session, owner)
            folders, _ = parent_and_name(path)
            prefixes = [path, *(ancestors(folders) if folders else [])]
            in_the_way = await session.scalars(
                sa.select(Node).where(Node.owner_id == user.id, Node.path.in_(prefixes), live())
            )
            for node in in_the_way:
                if node.path == path and node.type == FOLDER and not keep_existing:
                    raise Conflict(f"{path!r} is a folder", code=ErrorCode.PATH_IS_A_FOLDER)
                if node.path != path and node.type == FILE:
                    raise Conflict(f"{node.path!r} is a file, not a folder", code=ErrorCode.PATH_IS_A_FILE)
            if not user.quota_bytes:
                return UploadAllowance(max_bytes=None)
            reserved = await reserved_bytes(session, user.id)
        return UploadAllowance(max_bytes=max(0, user.quota_bytes - user.used_bytes - reserved))

    async def commit(self, owner: str, path: str, commit: FileCommit) -> CommitResult:
        """Point owner/path at a fully written object, atomically, creating missing folders. The
        replaced content becomes a version; versions beyond FILE_VERSIONS_KEPT are dropped (their
        objects kept a while, so downloads already running finish with the old content)."""
        self._limits.check(path)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, owner, for_update=True)
            if commit.keep_existing:
                path = await self._free_path(session, user.id, path, commit.object_key)
            node = await find_live(session, user.id, path, lock=True)
            if node is not None and node.object_key == commit.object_key:
                # The caller retries a commit whose answer it lost: it is done already. Going on
                # would keep the file's own content as a version and publish a second event.
                return CommitResult(file=file_info(node, owner), created=node.version == 1)
            if await session.scalar(
                sa.select(
                    sa.or_(
                        sa.exists().where(ObjectDeletion.object_key == commit.object_key),
                        sa.exists().where(Version.object_key == commit.object_key),
                    )
                )
            ):
                # A late retry of a commit that a newer upload has replaced since: keep the newer one.
                raise Conflict("this upload was superseded by a newer one", code=ErrorCode.SUPERSEDED_UPLOAD)
            if node is not None and node.type == FOLDER:
                raise Conflict(f"{path!r} is a folder", code=ErrorCode.PATH_IS_A_FOLDER)
            created = node is None
            if node is None:
                folders, _ = parent_and_name(path)
                node = new_node(user.id, await ensure_folder(session, user.id, folders, now), path, FILE, now)
                node.version = 0
                session.add(node)
            else:
                session.add(_as_version(node))
            freed = await self._drop_old_versions(session, node, now) if not created else 0
            new_used = user.used_bytes + commit.size - freed
            reserved = await reserved_bytes(session, user.id, except_upload=commit.upload_id) if user.quota_bytes else 0
            if user.quota_bytes and new_used + reserved > user.quota_bytes:
                raise PayloadTooLarge(
                    f"storage quota of {user.quota_bytes} bytes exceeded: {user.used_bytes} used "
                    f"(earlier versions and the trash count), {reserved} reserved by unfinished uploads, "
                    f"this file needs {commit.size}",
                    code=ErrorCode.QUOTA_EXCEEDED,
                )
            _set_content(node, commit.object_key, commit.size, commit.sha256, commit.content_type, now)
            user.used_bytes = new_used
            if commit.upload_id is not None:
                finished = await session.scalar(
                    sa.delete(Upload).where(Upload.id == commit.upload_id, Upload.owner_id == user.id).returning(Upload)
                )
                if finished is not None and finished.tail_key:
                    await schedule_deletions(session, [ObjectRef(object_key=finished.tail_key)], now)
            await session.flush()
            info = file_info(node, owner)
            event = _event(EventType.UPLOAD, info, commit.size, commit.actor, now)
            await add_events(session, [event.model_copy(update={"uploader": commit.uploader_name})])
        return CommitResult(file=info, created=created)

    async def _free_path(self, session: AsyncSession, owner_id: int, path: str, object_key: str) -> str:
        """``path``, or if something lives there ``name (2).ext``, ``name (3).ext`` …; a retried
        commit (its object already a file's content) keeps the path it got the first time."""
        retried = await session.scalar(
            sa.select(Node.path).where(Node.owner_id == owner_id, Node.object_key == object_key, live())
        )
        if retried is not None:
            return retried
        folders, name = parent_and_name(path)
        stem, dot, extension = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        candidate, number = path, 1
        while await find_live(session, owner_id, candidate) is not None:
            number += 1
            renamed = f"{stem} ({number}){dot}{extension}"
            candidate = f"{folders}/{renamed}" if folders else renamed
        self._limits.check(candidate)
        return candidate

    async def _drop_old_versions(self, session: AsyncSession, node: Node, now: datetime) -> int:
        """Keep FILE_VERSIONS_KEPT contents per file, the one being written included; return the
        bytes freed. The replaced content was just added as a version (flush makes it visible)."""
        await session.flush()
        keep_earlier = self._versions_kept - 1
        doomed = (
            await session.scalars(
                sa.select(Version)
                .where(Version.node_id == node.id)
                .order_by(Version.number.desc())
                .offset(keep_earlier)
            )
        ).all()
        if not doomed:
            return 0
        await session.execute(sa.delete(Version).where(Version.id.in_([v.id for v in doomed])))
        objects = await unreferenced_keys(session, {v.object_key for v in doomed} - {node.object_key or ""})
        await schedule_deletions(session, objects, now + self._retention)
        return sum(v.size for v in doomed)

    async def record_download(self, node_id: str, record: DownloadRecord) -> None:
        async with self._sessions.begin() as session:
            row = (await session.execute(_NODE_WITH_OWNER, {"node_id": parse_id(node_id)})).first()
            if row is None:  # purged since the download was authorised: nothing to attribute it to
                return
            info = file_info(row[0], row[1])
            await add_events(session, [_event(EventType.DOWNLOAD, info, record.size, record.actor, None)])

    async def versions(self, node_id: str, reader: str) -> list[VersionInfo]:
        """Newest first, the current content included."""
        async with self._sessions() as session:
            node = await self._readable_file(session, node_id, reader)
            earlier = await session.scalars(
                sa.select(Version).where(Version.node_id == node.id).order_by(Version.number.desc())
            )
            return [version_info(node), *(version_info(v) for v in earlier)]

    async def version(self, node_id: str, number: int, reader: str) -> StoredVersion:
        async with self._sessions() as session:
            node = await self._readable_file(session, node_id, reader)
            owner = await session.scalar(sa.select(User.username).where(User.id == node.owner_id))
            assert owner is not None
            assert node.object_key is not None
            if number == node.version:
                return StoredVersion(
                    file=file_info(node, owner), version=version_info(node), object_key=node.object_key
                )
            version = await session.scalar(
                sa.select(Version).where(Version.node_id == node.id, Version.number == number)
            )
            if version is None:
                raise NotFound(f"file {node_id} has no version {number}", code=ErrorCode.VERSION_NOT_FOUND)
            return StoredVersion(
                file=file_info(node, owner), version=version_info(version), object_key=version.object_key
            )

    async def restore_version(self, node_id: str, number: int, actor: str) -> CommitResult:
        """Make version ``number``'s content current again, as a new version: nothing is lost."""
        stored_version = await self.version(node_id, number, actor)
        if stored_version.version.current:
            return CommitResult(file=stored_version.file, created=False)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            user = await find_user(session, stored_version.file.owner, for_update=True)
            node = await self._readable_file(session, node_id, actor, lock=True)
            version = await session.scalar(
                sa.select(Version).where(Version.node_id == node.id, Version.number == number)
            )
            if version is None:  # dropped by a replace since
                raise NotFound(f"file {node_id} has no version {number}", code=ErrorCode.VERSION_NOT_FOUND)
            session.add(_as_version(node))
            freed = await self._drop_old_versions(session, node, now)
            new_used = user.used_bytes + version.size - freed
            if user.quota_bytes and new_used > user.quota_bytes:
                raise PayloadTooLarge(
                    f"storage quota of {user.quota_bytes} bytes exceeded: restoring needs {version.size}",
                    code=ErrorCode.QUOTA_EXCEEDED,
                )
            _set_content(node, version.object_key, version.size, version.sha256, version.content_type, now)
            user.used_bytes = new_used
            await session.flush()
            info = file_info(node, user.username)
            await add_events(session, [_event(EventType.UPLOAD, info, version.size, actor, now)])
        return CommitResult(file=info, created=False)

    async def _readable_file(self, session: AsyncSession, node_id: str, reader: str, *, lock: bool = False) -> Node:
        query = sa.select(Node).where(Node.id == parse_id(node_id), Node.type == FILE, readable_by(reader))
        node = await session.scalar(query.with_for_update(of=Node) if lock else query)
        if node is None:
            raise node_not_found(node_id)
        return node

    async def _owned_node(self, session: AsyncSession, node_id: str, owner: str, *, lock: bool = False) -> Node:
        """The owner's live node, 404 if absent. ``lock`` keeps it from being deleted until the
        transaction ends (a grant racing a delete then finds it gone, 404, instead of a foreign-key
        error)."""
        query = (
            sa.select(Node)
            .join(User, User.id == Node.owner_id)
            .where(Node.id == parse_id(node_id), User.username == owner, live())
        )
        if lock:
            query = query.with_for_update(of=Node, key_share=True)
        node = await session.scalar(query)
        if node is None:
            raise node_not_found(node_id)
        return node

    async def grantees(self, node_id: str, owner: str) -> list[str]:
        async with self._sessions() as session:
            node = await self._owned_node(session, node_id, owner)
            rows = await session.scalars(
                sa.select(User.username)
                .join(Grant, Grant.grantee_id == User.id)
                .where(Grant.node_id == node.id)
                .order_by(User.username)
            )
            return list(rows)

    async def grant(self, node_id: str, owner: str, grantee: str) -> None:
        if grantee == owner:
            raise InvalidInput(
                "the owner can always download their files; grant to another user", code=ErrorCode.GRANT_TO_OWNER
            )
        async with self._sessions.begin() as session:
            node = await self._owned_node(session, node_id, owner, lock=True)
            user = await find_user(session, grantee, key_share=True)
            await session.execute(insert(Grant).values(node_id=node.id, grantee_id=user.id).on_conflict_do_nothing())

    async def revoke(self, node_id: str, owner: str, grantee: str) -> None:
        async with self._sessions.begin() as session:
            node = await self._owned_node(session, node_id, owner)
            user = await find_user(session, grantee)
            await session.execute(sa.delete(Grant).where(Grant.node_id == node.id, Grant.grantee_id == user.id))

    async def shared_with(self, username: str, query: str | None, limit: int) -> list[NodeInfo]:
        """Without ``query``: the files and folders granted to the user. With it: every file and
        folder the user may read through a grant (inside shared folders too) whose name matches."""
        item_count, total_size = folder_stats()
        async with self._sessions() as session:
            user = await find_user(session, username)
            select = sa.select(Node, Owner.username, item_count, total_size).join(Owner, Owner.id == Node.owner_id)
            if query:
                select = select.where(Node.owner_id != user.id, readable_by(username), name_contains(query))
            else:
                select = select.join(Grant, Grant.node_id == Node.id).where(Grant.grantee_id == user.id, live())
            rows = await session.execute(select.order_by(Owner.username, Node.path).limit(limit))
            return [node_info(node, owner, count, size) for node, owner, count, size in rows]

    async def owned_nodes(self, owner: str, node_ids: Sequence[str]) -> list[NodeInfo]:
        """The owner's live files and folders among ``node_ids``, where they are now; ids that are
        in the trash, purged, someone else's or not ids at all are simply left out."""
        ids = [int(node_id) for node_id in node_ids if node_id.isascii() and node_id.isdigit() and len(node_id) <= 18]
        item_count, total_size = folder_stats()
        async with self._sessions() as session:
            user = await find_user(session, owner)
            if not ids:
                return []
            select = sa.select(Node, item_count, total_size).where(Node.owner_id == user.id, Node.id.in_(ids), live())
            rows = await session.execute(select.order_by(Node.path))
            return [node_info(node, owner, count, size) for node, count, size in rows]


def _as_version(node: Node) -> Version:
    """The node's current content, as an earlier version."""
    assert node.version is not None
    assert node.object_key is not None
    assert node.size is not None
    assert node.sha256 is not None
    assert node.content_type is not None
    return Version(
        node_id=node.id,
        number=node.version,
        object_key=node.object_key,
        size=node.size,
        sha256=node.sha256,
        content_type=node.content_type,
        created_at=node.updated_at,
    )


def _set_content(node: Node, object_key: str, size: int, sha256: str, content_type: str, now: datetime) -> None:
    node.version = (node.version or 0) + 1
    node.object_key = object_key
    node.size = size
    node.sha256 = sha256
    node.content_type = content_type
    node.updated_at = now


def _event(kind: EventType, info: FileInfo, size: int, actor: str, now: datetime | None) -> FileEvent:
    moment = {"occurred_at": now} if now is not None else {}
    return FileEvent(
        type=kind,
        owner=info.owner,
        filename=info.filename,
        size=size,
        actor=actor,
        file_id=info.id,
        path=info.path,
        **moment,
    )
