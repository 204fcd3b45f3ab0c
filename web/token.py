"""`python -m web.token` (`make token`): print one new admin API token, and nothing else."""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

from stack import config as stack_config
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token


def main() -> int:
    config = stack_config.load()
    config.var_path.mkdir(parents=True, exist_ok=True)
    try:
        engine = make_engine(config.database_url)
        upgrade(engine)
        token = create_token(make_sessions(engine))
    except SQLAlchemyError as exc:
        print(f"token: database {config.database_url}: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
