"""rooms and api tokens

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("user_pin", sa.String(128)),
        sa.Column("admin_pin", sa.String(128)),
        sa.Column("record", sa.Boolean, nullable=False),
        sa.Column("announce_count", sa.Boolean, nullable=False),
        sa.Column("music_on_hold", sa.Boolean, nullable=False),
        sa.Column("end_on_admin_exit", sa.Boolean, nullable=False),
        sa.Column("mute_notifications", sa.Boolean, nullable=False),
        sa.Column("wait_for_admin", sa.Boolean, nullable=False),
        sa.Column("max_participants", sa.Integer, nullable=False),
        sa.Column("greeting_sound_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("rooms")
