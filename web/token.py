"""`python -m web.token` (`make token`): migrate the database if needed, then print
one new admin API token on one line, and nothing else, on stdout.

The token belongs to the oldest enabled admin account (the built-in `admin` unless it was
deleted); `GET /api/v1/tokens` with it lists it, `DELETE` revokes it."""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

from store.bootstrap import BootstrapError, load_config, migrate, one_line, shown_url
from store.projected import NotFoundError
from store.sql import StoreUnavailableError, make_sessions
from store.tokens import create_token


def main() -> int:
    config = load_config("token")
    if config is None:
        return 1
    try:
        token = create_token(make_sessions(migrate(config)))
    except BootstrapError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 1
    except NotFoundError:
        print("token: no enabled admin account; make one with `make admin`", file=sys.stderr)
        return 1
    except (SQLAlchemyError, StoreUnavailableError) as exc:
        cause = exc.__cause__ or exc
        print(f"token: database {shown_url(config.database_url)}: {one_line(cause)}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
