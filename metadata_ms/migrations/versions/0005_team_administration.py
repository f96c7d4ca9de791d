"""team administration: roles, disabled users, sessions and API tokens, invites, password
resets, the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.Text(), server_default="user", nullable=False))
    op.add_column("users", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("ck_users_role", "users", "role IN ('admin', 'user')")

    op.alter_column("tokens", "expires_at", existing_type=sa.DateTime(timezone=True), nullable=True)
    op.add_column("tokens", sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False))
    op.create_unique_constraint("uq_tokens_id", "tokens", ["id"])
    op.add_column("tokens", sa.Column("kind", sa.Text(), server_default="session", nullable=False))
    op.add_column("tokens", sa.Column("scope", sa.Text(), server_default="full", nullable=False))
    op.add_column("tokens", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("tokens", sa.Column("client", sa.Text(), nullable=True))
    op.add_column(
        "tokens", sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
    )
    op.add_column("tokens", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("ck_tokens_kind", "tokens", "kind IN ('session', 'api')")
    op.create_check_constraint("ck_tokens_scope", "tokens", "scope IN ('read', 'full')")

    op.create_table(
        "invites",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Text(), nullable=True),
    )
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.Text(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("password_resets")
    op.drop_table("invites")
    for constraint in ("ck_tokens_scope", "ck_tokens_kind", "uq_tokens_id"):
        op.drop_constraint(constraint, "tokens")
    for column in ("last_used_at", "created_at", "client", "name", "scope", "kind", "id"):
        op.drop_column("tokens", column)
    op.execute("DELETE FROM tokens WHERE expires_at IS NULL")
    op.alter_column("tokens", "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.drop_constraint("ck_users_role", "users")
    op.drop_column("users", "disabled_at")
    op.drop_column("users", "role")
