"""`python -m web.token` (`make token`): migrate the database if needed, then print
one new admin API token on one line, and nothing else, on stdout."""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

from store.bootstrap import BootstrapError, load_config, migrate, one_line, shown_url
from store.sql import make_sessions
from store.tokens import ADMIN, create_token


def main() -> int:
    config = load_config("token")
    if config is None:
        return 1
    try:
        token = create_token(make_sessions(migrate(config)), role=ADMIN)
    except BootstrapError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"token: database {shown_url(config.database_url)}: {one_line(exc)}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
