"""recorded conference sessions

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("room", sa.String(32), nullable=False, index=True),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("participants", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recordings")
