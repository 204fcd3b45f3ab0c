"""the panel's language chosen by an account, kept with the account (it was a Redis key)

Nullable: an account that never chose sees the panel in its browser's language. A choice made
while it lived in Redis is not carried over; the account picks it again once.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("language")
