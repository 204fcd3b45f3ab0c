"""trunks: inbound numbers whose callers are called back (callback), for whom (callback_owner), how often

Existing trunks call nobody back.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"


def upgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.add_column(sa.Column("callback", sa.String, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("callback_owner", sa.String(32)))
        batch.add_column(sa.Column("callback_per_hour", sa.Integer, nullable=False, server_default="3"))


def downgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.drop_column("callback_per_hour")
        batch.drop_column("callback_owner")
        batch.drop_column("callback")
