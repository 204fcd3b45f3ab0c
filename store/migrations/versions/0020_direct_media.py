"""extensions and trunks: direct_media (their calls with a bridge node may skip rtpengine)

Existing extensions and trunks stay anchored through rtpengine (false), the safe choice.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
TABLES = ("extensions", "trunks")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("direct_media", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("direct_media")
