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

# Downloads per window at the finest grain (see transforms.download_counts): every other view is
# a sum over these rows. '' stands for "none" in the key columns (a primary key has no nulls).
download_counts = sa.Table(
    "download_counts",
    metadata,
    sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("owner", sa.Text(), primary_key=True),
    sa.Column("file_id", sa.Text(), primary_key=True),
    sa.Column("link_id", sa.Text(), primary_key=True),
    sa.Column("client_address", sa.Text(), primary_key=True),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("downloads", sa.BigInteger(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("path", sa.Text()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    # The stats read by file, by link and by owner, each over a time range.
    sa.Index("download_counts_file", "file_id", "window_start"),
    sa.Index("download_counts_link", "link_id", "window_start", postgresql_where=sa.text("link_id <> ''")),
    sa.Index("download_counts_owner", "owner", "window_start"),
)

# One row per (link, window) in which the link was downloaded from more than LINK_ALERT_ADDRESSES
# distinct addresses: written once, when the sink first sees it, with the link_alert event.
link_alerts = sa.Table(
    "link_alerts",
    metadata,
    sa.Column("link_id", sa.Text(), primary_key=True),
    sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("owner", sa.Text(), nullable=False),
    sa.Column("addresses", sa.Integer(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("file_id", sa.Text(), nullable=False),
    sa.Column("path", sa.Text()),
    sa.Column("event_id", sa.Uuid(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Index("link_alerts_window", "window_start"),
)
