"""Alembic's environment: online only, on the connection store.migrations.upgrade hands over."""

from __future__ import annotations

from alembic import context

from store.sql import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with store.migrations.upgrade() or python -m store.bootstrap")
# Batch mode: SQLite can only change most of a table by copying it.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
