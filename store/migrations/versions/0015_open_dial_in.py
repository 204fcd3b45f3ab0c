"""scheduled conferences: the owner's explicit opt-out of the guest password (open_dial_in)

From now on a conference needs a guest password unless its owner opts out. Conferences made before
had no such rule: those without a guest password were open to anyone with the code, so they are
marked as opted out (what they already were), and editing them does not suddenly ask for one.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("conferences") as batch:
        batch.add_column(sa.Column("open_dial_in", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE conferences SET open_dial_in = :open WHERE guest_password IS NULL")
               .bindparams(open=True))


def downgrade() -> None:
    with op.batch_alter_table("conferences") as batch:
        batch.drop_column("open_dial_in")
