"""room row version, so concurrent changes of one room cannot overwrite each other

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("version")
