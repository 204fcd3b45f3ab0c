"""accounts with roles; API tokens belong to an account and may expire

Every token made before accounts existed was an admin token: they all go to the
built-in admin account created here (name "admin", no password until
`make admin` gives it one), so they keep working with the same rights.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

BUILTIN_ADMIN = "admin"


def upgrade() -> None:
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("credential_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    now = datetime.now(UTC)
    op.bulk_insert(accounts, [{"name": BUILTIN_ADMIN, "role": "admin", "password_hash": None, "disabled": False,
                               "credential_version": 1, "created_at": now, "updated_at": now}])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer))
        batch.add_column(sa.Column("name", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True)))
    # Only admin tokens could be made before (python -m web.token).
    op.execute(sa.text("UPDATE api_tokens SET account_id = (SELECT id FROM accounts WHERE name = :name)")
               .bindparams(name=BUILTIN_ADMIN))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("account_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("name", existing_type=sa.String(100), server_default=None)
        batch.create_foreign_key("fk_api_tokens_account_id", "accounts", ["account_id"], ["id"])
        batch.create_index("ix_api_tokens_account_id", ["account_id"])
        batch.drop_column("role")


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
    # Tokens of accounts that were not admins must not come back as admin tokens.
    op.execute(sa.text("DELETE FROM api_tokens WHERE account_id IN (SELECT id FROM accounts WHERE role != 'admin')"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_account_id")
        batch.drop_constraint("fk_api_tokens_account_id", type_="foreignkey")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("name")
        batch.drop_column("account_id")
    op.drop_table("accounts")
