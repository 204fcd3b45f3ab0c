"""rooms: the music on hold picked from the sound library (music_sound_id)

Existing rooms get null: the standard track, what they played before.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("music_sound_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("music_sound_id")
