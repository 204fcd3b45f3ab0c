"""call quality of each billed leg (conference.quality.Summary): average and worst MOS, loss, jitter

Nullable: older records, and legs that never had media, have none.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

COLUMNS = ("mos_avg", "mos_min", "loss_percent_avg", "loss_percent_max", "jitter_ms_avg", "jitter_ms_max")


def upgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
