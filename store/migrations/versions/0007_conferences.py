"""scheduled conferences, templates, their mail outbox and attendance

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "conferences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("participants", sa.String, nullable=False),
        sa.Column("greeting_sound_id", sa.Integer),
        sa.Column("chair_password", sa.String(16)),
        sa.Column("guest_password", sa.String(16)),
        sa.Column("max_participants", sa.Integer, nullable=False),
        sa.Column("auto_invite", sa.Boolean, nullable=False),
        sa.Column("auto_extend", sa.Integer, nullable=False),
        sa.Column("reminder_minutes", sa.Integer, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.create_table(
        "conference_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("fields", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(500), nullable=False),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, index=True),
        sa.Column("caller", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_by", sa.String(16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("left_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("attendance")
    op.drop_table("outgoing_mail")
    op.drop_table("conference_templates")
    op.drop_table("conferences")
