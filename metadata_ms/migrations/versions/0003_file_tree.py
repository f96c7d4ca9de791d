"""file tree: nodes (files and folders), versions, trash, folder grants, name search

Every existing file becomes a top-level file node with the same id, so grants (re-pointed at
nodes) and the meaning of every top-level path stay as they were.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pg_trgm ships with PostgreSQL's contrib (Debian's postgresql-15 package includes it).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "nodes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(collation="C"), nullable=False),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("search_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trashed_in", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("object_key", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.CheckConstraint("type IN ('file', 'folder')", name="ck_nodes_type"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_nodes_live_path",
        "nodes",
        ["owner_id", "path"],
        unique=True,
        postgresql_where=sa.text("trashed_in IS NULL"),
    )
    op.create_index(
        "ix_nodes_live_top_level",
        "nodes",
        ["owner_id", "path"],
        postgresql_where=sa.text("parent_id IS NULL AND trashed_in IS NULL"),
    )
    op.create_index("ix_nodes_parent", "nodes", ["parent_id", "path"])
    op.create_index("ix_nodes_trashed_in", "nodes", ["trashed_in"], postgresql_where=sa.text("trashed_in IS NOT NULL"))
    op.create_index("ix_nodes_object_key", "nodes", ["object_key"])
    op.create_index(
        "ix_nodes_search_name_trgm",
        "nodes",
        ["search_name"],
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("node_id", "number"),
    )
    op.create_index(op.f("ix_versions_object_key"), "versions", ["object_key"])

    op.execute(
        """
        INSERT INTO nodes (id, owner_id, parent_id, type, name, path, search_name, created_at, updated_at,
                           version, object_key, size, content_type, sha256)
        SELECT id, owner_id, NULL, 'file', filename, filename, '', created_at, updated_at,
               1, object_key, size, content_type, sha256
        FROM files
        """
    )
    op.execute("SELECT setval(pg_get_serial_sequence('nodes', 'id'), coalesce(max(id), 0) + 1, false) FROM nodes")
    # search_name is Python's casefold(), which the database's lower() does not match beyond ASCII.
    connection = op.get_bind()
    names = connection.execute(sa.text("SELECT id, name FROM nodes")).all()
    if names:
        connection.execute(
            sa.text("UPDATE nodes SET search_name = :folded WHERE id = :id"),
            [{"id": row.id, "folded": row.name.casefold()} for row in names],
        )

    op.drop_constraint("grants_file_id_fkey", "grants", type_="foreignkey")
    op.alter_column("grants", "file_id", new_column_name="node_id")
    op.create_foreign_key("grants_node_id_fkey", "grants", "nodes", ["node_id"], ["id"], ondelete="CASCADE")
    op.alter_column("uploads", "filename", new_column_name="path")
    op.drop_table("files")


def downgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(collation="C"), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("object_key"),
        sa.UniqueConstraint("owner_id", "filename"),
    )
    # Only live top-level files have a place in the flat schema; the rest cannot be kept.
    op.execute(
        """
        INSERT INTO files (id, owner_id, filename, object_key, size, content_type, sha256, created_at, updated_at)
        SELECT id, owner_id, name, object_key, size, content_type, sha256, created_at, updated_at
        FROM nodes WHERE type = 'file' AND parent_id IS NULL AND trashed_in IS NULL
        """
    )
    op.execute("SELECT setval(pg_get_serial_sequence('files', 'id'), coalesce(max(id), 0) + 1, false) FROM files")
    op.execute("DELETE FROM grants WHERE node_id NOT IN (SELECT id FROM files)")
    op.drop_constraint("grants_node_id_fkey", "grants", type_="foreignkey")
    op.alter_column("grants", "node_id", new_column_name="file_id")
    op.create_foreign_key("grants_file_id_fkey", "grants", "files", ["file_id"], ["id"], ondelete="CASCADE")
    op.alter_column("uploads", "path", new_column_name="filename")
    op.drop_table("versions")
    op.drop_table("nodes")
