"""trunks' caller-ID settings (conference.identity): trusted, caller_id, present_as

Existing trunks become untrusted, with no fixed number, presenting in P-Asserted-Identity only:
what kamconf did before these settings existed.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.add_column(sa.Column("trusted", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("caller_id", sa.String(33), nullable=True))
        batch.add_column(sa.Column("present_as", sa.String(16), nullable=False, server_default="pai"))


def downgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.drop_column("present_as")
        batch.drop_column("caller_id")
        batch.drop_column("trusted")
