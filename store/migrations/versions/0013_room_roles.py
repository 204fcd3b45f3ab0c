"""rooms: more PINs per role (JSON lists of hashes), listener PINs, listen-only, joining muted, a lobby

Existing rooms keep their single user_pin / admin_pin and get empty lists and every new option off,
so they behave as before.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

_LISTS = ("user_pins", "admin_pins", "listener_pins")
_FLAGS = ("listen_only", "users_join_muted", "admins_join_muted", "lobby")


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        for name in _LISTS:
            batch.add_column(sa.Column(name, sa.String, nullable=False, server_default="[]"))
        for name in _FLAGS:
            batch.add_column(sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("start_muted_at", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        for name in ("start_muted_at", *reversed(_FLAGS), *reversed(_LISTS)):
            batch.drop_column(name)
