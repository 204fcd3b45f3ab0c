"""rooms: record_tracks (one file per participant beside the mix); recordings: their tracks

Existing rooms record the mix only, as before; existing recordings have no tracks.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("record_tracks", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("tracks", sa.String, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("tracks")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("record_tracks")
