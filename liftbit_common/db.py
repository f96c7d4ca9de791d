"""Postgres plumbing shared by the services that own tables: engines and Alembic migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from liftbit_common.settings import sqlalchemy_url

log = structlog.get_logger(__name__)

# Serialises migrations when several processes start at once (pg_advisory_lock key, any constant).
_MIGRATION_LOCK_KEY = 0x4C494654


def create_engine(
    database_url: str, *, pool_size: int = 10, max_overflow: int = 10, statement_timeout_seconds: float = 0
) -> AsyncEngine:
    """``statement_timeout_seconds`` (0: none) makes Postgres give up a statement, lock waits
    included, before the service's callers give up on it: then a 503 means "not done"."""
    connect_args: dict[str, object] = {"connect_timeout": 3}
    if statement_timeout_seconds:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_seconds * 1000)}"
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=5,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def upgrade_database(
    migrations_dir: Path, database_url: str, version_table: str, revision: str = "head", *, down: bool = False
) -> None:
    """Bring the schema to ``revision`` (the newest by default; ``down``: back to it); blocking,
    so call it in a thread."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["version_table"] = version_table
    engine = sa.create_engine(sqlalchemy_url(database_url), poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


async def migrate_when_reachable(
    migrations_dir: Path, database_url: str, version_table: str, attempts: int = 30
) -> None:
    """Migrate at service start; Postgres may still be starting (compose, reboot), so retry a while."""
    for attempt in range(1, attempts + 1):
        try:
            await asyncio.to_thread(upgrade_database, migrations_dir, database_url, version_table)
            return
        except sa.exc.OperationalError as exc:
            if attempt == attempts:
                raise
            log.warning("database_not_ready", attempt=attempt, error=str(exc.orig))
            await asyncio.sleep(1)


def run_migrations_in_env(target_metadata: sa.MetaData) -> None:
    """The body of every env.py: migrate over the connection upgrade_database handed in."""
    from alembic import context

    config = context.config
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes["version_table"],
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
