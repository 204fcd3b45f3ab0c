"""The Flask app: `create_app(config)` builds every client; nothing connects at import time.

Production: `gunicorn 'web.app:create_app()'` with KAMCONF_CONFIG set.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from stack import config as stack_config
from store import live
from store.rooms import RoomRepository
from store.sql import make_engine, make_sessions
from web import errors, rooms
from web.auth import require_token
from web.openapi import document


@dataclass(frozen=True)
class Services:
    sessions: sessionmaker[Session]
    client: redis.Redis
    rooms: RoomRepository


def create_app(config: stack_config.Config | None = None) -> Flask:
    config = config or stack_config.load()
    sessions = make_sessions(make_engine(config.database_url))
    client = live.connect(config.redis_url)
    app = Flask("kamconf")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["kamconf"] = Services(sessions, client, RoomRepository(sessions, client))
    errors.register(app)

    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(require_token)
    api.register_blueprint(rooms.blueprint)
    app.register_blueprint(api)

    @app.get("/api/v1/openapi.json")
    def openapi() -> ResponseReturnValue:
        return jsonify(document())

    @app.get("/healthz")
    def health() -> ResponseReturnValue:
        # Either store failing becomes a 503 through the error handlers.
        services: Services = app.extensions["kamconf"]
        with services.sessions() as session:
            session.execute(text("SELECT 1"))
        services.client.ping()
        return jsonify({"status": "ok"})

    return app
