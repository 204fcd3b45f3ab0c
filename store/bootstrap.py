"""`python -m store.bootstrap`: migrate SQL to the newest schema, then rebuild the
Redis room projection from SQL. Idempotent; run before the web app starts.

Exit status 0 and one line on stdout when done; otherwise status 1 and one line
on stderr naming what is unreachable.
"""

from __future__ import annotations

import sys

import redis
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

import settings
from store import directory, live
from store.accounts import AccountRepository
from store.cdrs import CdrRepository
from store.migrations import migrated_engine
from store.recordings import RecordingRepository
from store.rooms import RoomRepository
from store.sql import StoreUnavailableError, make_sessions


class BootstrapError(Exception):
    """A one-line explanation, fit to print as it is."""


def one_line(exc: BaseException) -> str:
    # DBAPI errors (psycopg) span lines; SQLAlchemy appends a link. Keep the cause, on one line.
    detail = getattr(exc, "orig", None) or exc
    return " ".join(str(detail).split()) or type(exc).__name__


def shown_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(malformed URL)"


def migrate(config: settings.Config) -> Engine:
    """The configured database, created if it is a new SQLite file, at the newest schema."""
    where = shown_url(config.database_url)
    try:
        return migrated_engine(config)
    except (SQLAlchemyError, OSError) as exc:
        raise BootstrapError(f"database {where} unreachable: {one_line(exc)}") from exc
    except CommandError as exc:
        # E.g. the database was migrated by a newer kamconf than this one.
        raise BootstrapError(f"database {where}: cannot migrate: {one_line(exc)}") from exc


def project(config: settings.Config, engine: Engine) -> int:
    """Replace the Redis projections (rooms, extensions, trunks, menus) with what SQL holds; the number of rooms."""
    sessions, client = make_sessions(engine), live.connect(config.redis_url)
    try:
        for repository in (directory.extensions(sessions, client), directory.trunks(sessions, client),
                           directory.menus(sessions, client)):
            repository.project_all()
        return RoomRepository(sessions, client).project_all()
    except StoreUnavailableError as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, redis.RedisError):
            raise BootstrapError(f"redis {config.redis_shown} unreachable: {one_line(cause)}") from exc
        raise BootstrapError(f"database {shown_url(config.database_url)}: {one_line(cause)}") from exc


def load_config(program: str) -> settings.Config | None:
    """The configuration, or None after saying on stderr why it cannot be read."""
    try:
        return settings.load()
    except (ValueError, OSError) as exc:  # a missing file, bad TOML, an unknown or mistyped setting
        print(f"{program}: config: {one_line(exc)}", file=sys.stderr)
        return None


def main() -> int:
    config = load_config("bootstrap")
    if config is None:
        return 1
    try:
        engine = migrate(config)
        count = project(config, engine)
        # Recordings whose import job was never queued (Redis was down) are filed here.
        filed = RecordingRepository(make_sessions(engine), config.var_path / "recordings").import_all()
        records = CdrRepository(make_sessions(engine), config.var_path / "cdrs").import_all()
        nobody_can_sign_in = not AccountRepository(make_sessions(engine)).admin_can_sign_in()
    except BootstrapError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        return 1
    if nobody_can_sign_in:
        print("bootstrap: no admin can sign in yet: create the first one with `make admin` "
              "(scripts: KAMCONF_ADMIN_PASSWORD=... python -m web.admin)")
    print(f"bootstrap: schema up to date; {count} room(s) projected into Redis; {filed} recording(s) and "
          f"{records} call record(s) filed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
