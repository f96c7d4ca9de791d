"""The tables analytics_ms owns (its Alembic history creates them)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

download_windows = sa.Table(
    "download_windows",
    metadata,
    sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("downloads", sa.BigInteger(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)
