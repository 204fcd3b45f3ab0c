"""Alembic migrations of the SQL schema, run from code: no alembic.ini, no CLI.

`upgrade(engine)` brings a database to the newest revision (idempotent);
`is_current(engine)` tells whether it is there already.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from settings import Config
from store.sql import make_engine

HERE = Path(__file__).resolve().parent


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op if it is there."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def head_revision() -> str | None:
    """The newest revision the code knows (read from the files here, no database)."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head_revision()


def migrated_engine(config: Config) -> Engine:
    """The configured database at the newest schema; a new SQLite file is created under var_dir."""
    config.var_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.database_url)
    upgrade(engine)
    return engine
