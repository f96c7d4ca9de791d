"""download_counts and link_alerts: per file, link and address windows; the leak alerts

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0002"
down_revision: str | None = "a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_counts",
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("file_id", sa.Text(), nullable=False),
        sa.Column("link_id", sa.Text(), nullable=False),
        sa.Column("client_address", sa.Text(), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "owner", "file_id", "link_id", "client_address"),
    )
    op.create_index("download_counts_file", "download_counts", ["file_id", "window_start"])
    op.create_index(
        "download_counts_link",
        "download_counts",
        ["link_id", "window_start"],
        postgresql_where=sa.text("link_id <> ''"),
    )
    op.create_index("download_counts_owner", "download_counts", ["owner", "window_start"])
    op.create_table(
        "link_alerts",
        sa.Column("link_id", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("addresses", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("link_id", "window_start"),
    )
    op.create_index("link_alerts_window", "link_alerts", ["window_start"])


def downgrade() -> None:
    op.drop_table("link_alerts")
    op.drop_table("download_counts")
