"""`python -m web.token` (`make token`): print one new admin API token, and nothing else."""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

from stack import config as stack_config
from store.migrations import migrated_engine
from store.sql import make_sessions
from store.tokens import create_token


def main() -> int:
    config = stack_config.load()
    try:
        token = create_token(make_sessions(migrated_engine(config)))
    except SQLAlchemyError as exc:
        print(f"token: database {config.database_url}: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
