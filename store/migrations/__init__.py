"""Alembic migrations of the SQL schema, run programmatically (`upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

from stack.config import Config
from store.sql import make_engine

HERE = Path(__file__).resolve().parent


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrated_engine(config: Config) -> Engine:
    """The configured database, created if it is a new SQLite file, at the newest schema."""
    config.var_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.database_url)
    upgrade(engine)
    return engine
