"""`python -m store.bootstrap`: migrate SQL to the newest schema and rebuild the Redis projection."""

from __future__ import annotations

import sys

import redis
from sqlalchemy.exc import SQLAlchemyError

from stack import config as stack_config
from store import live
from store.migrations import migrated_engine
from store.rooms import RoomRepository
from store.sql import make_sessions


def main() -> int:
    config = stack_config.load()
    try:
        engine = migrated_engine(config)
        count = RoomRepository(make_sessions(engine), live.connect(config.redis_url)).project_all()
    except SQLAlchemyError as exc:
        print(f"bootstrap: database {config.database_url}: {exc}", file=sys.stderr)
        return 1
    except redis.RedisError as exc:
        print(f"bootstrap: redis {config.redis_url}: {exc}", file=sys.stderr)
        return 1
    print(f"bootstrap: schema up to date; {count} room(s) projected into Redis")
    return 0


if __name__ == "__main__":
    sys.exit(main())
