"""extensions and trunks

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    ]


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("ha1", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("consult_merge", sa.Boolean, nullable=False),
        sa.Column("external_calls", sa.Boolean, nullable=False),
        sa.Column("forward_to", sa.String(33)),
        sa.Column("conference_pin", sa.String(128)),
        sa.Column("conference_end_on_exit", sa.Boolean, nullable=False),
        sa.Column("conference_announce_caller_name", sa.Boolean, nullable=False),
        *_stamps(),
    )
    op.create_table(
        "trunks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("gateway", sa.String(260), nullable=False),
        sa.Column("sources", sa.String, nullable=False),
        sa.Column("prefixes", sa.String, nullable=False),
        sa.Column("inbound", sa.String, nullable=False),
        *_stamps(),
    )


def downgrade() -> None:
    op.drop_table("trunks")
    op.drop_table("extensions")
