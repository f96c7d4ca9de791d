"""the upload lease: which request writes a resumable upload, and until when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("uploads", sa.Column("writer", sa.Uuid(), nullable=True))
    op.add_column("uploads", sa.Column("writer_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("uploads", "writer_until")
    op.drop_column("uploads", "writer")
