"""The Flask app. `create_app(config)` is the composition root: it builds the SQL
engine, the Redis client and the repositories, none of which connects before
its first use, so importing or creating the app never touches the network.

Production: `KAMCONF_CONFIG=/etc/kamconf.toml gunicorn 'web.app:create_app()'`,
after `python -m store.bootstrap`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

import settings
from store import directory, live
from store.accounts import AccountRepository
from store.cdrs import CdrRepository
from store.conferences import MeetingRepository
from store.contacts import ContactRepository
from store.recordings import RecordingRepository
from store.rooms import RoomRepository
from store.signin import SignIn
from store.sounds import SoundRepository
from store.sql import make_engine, make_sessions
from store.tokens import TokenRepository
from store.webhooks import WebhookRepository
from web import (
    accounts,
    auth,
    callbacks,
    cdrs,
    conferences,
    contacts,
    cookies,
    errors,
    menus,
    panel,
    phones,
    recordings,
    rooms,
    signin,
    sounds,
    webhooks,
)
from web.access import public
from web.apidoc import documented
from web.auth import API_PREFIX, Auth
from web.metrics import install as count_requests
from web.openapi import document
from web.services import EXTENSION, Services, services

# A room is well under 1 KiB of JSON; only a sound upload raises the limit, for itself
# (web.sounds.MAX_UPLOAD_BODY), so no other view ever buffers megabytes.
MAX_BODY = 64 * 1024


def create_app(config: settings.Config | None = None) -> Flask:
    config = config or settings.load()
    engine = make_engine(config.database_url)
    sessions = make_sessions(engine)
    client = live.connect(config.redis_url)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]  # rooms read best in RoomSettings order
    app.extensions[EXTENSION] = Services(engine, sessions, client, RoomRepository(sessions, client),
                                         directory.extensions(sessions, client), directory.trunks(sessions, client),
                                         directory.menus(sessions, client), config.sip.realm,
                                         live.queue_connection(config.redis_url), config.conferences.dial_in,
                                         config.conferences.operator_outside_calls)
    app.extensions[sounds.EXTENSION] = SoundRepository(sessions, config.var_path / "sounds" / "library")
    app.extensions[recordings.EXTENSION] = RecordingRepository(sessions, config.var_path / "recordings")
    app.extensions[cdrs.EXTENSION] = CdrRepository(sessions, config.var_path / "cdrs")
    app.extensions[conferences.EXTENSION] = MeetingRepository(sessions)
    app.extensions[contacts.EXTENSION] = ContactRepository(sessions)
    app.extensions[webhooks.EXTENSION] = webhooks.Webhooks(WebhookRepository(sessions), config.webhooks.allow_private)
    account_repository = AccountRepository(sessions)
    app.extensions[auth.EXTENSION] = Auth(account_repository, TokenRepository(sessions),
                                          SignIn(account_repository, client, config.sip.realm))
    cookies.configure(app, config.var_path / "secrets" / "web.key")
    errors.register(app)
    count_requests(app)  # Prometheus: requests by endpoint and status class (web/metrics.py)
    app.before_request(auth.guard)

    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api.register_blueprint(rooms.blueprint)
    api.register_blueprint(sounds.blueprint)
    api.register_blueprint(recordings.blueprint)
    api.register_blueprint(phones.blueprint)
    api.register_blueprint(phones.trunks)
    api.register_blueprint(menus.blueprint)
    api.register_blueprint(callbacks.blueprint)
    api.register_blueprint(cdrs.blueprint)
    api.register_blueprint(conferences.blueprint)
    api.register_blueprint(contacts.blueprint)
    api.register_blueprint(webhooks.blueprint)
    api.register_blueprint(signin.blueprint)
    api.register_blueprint(accounts.blueprint)
    api.add_url_rule("/openapi.json", "openapi", openapi)
    app.register_blueprint(api)
    app.add_url_rule("/healthz", "healthz", healthz)
    panel.register(app, config)  # the operator panel's pages, under /
    return app


@documented("This document", "OpenApi")
@public
def openapi() -> ResponseReturnValue:
    return jsonify(document(current_app))


@documented("Whether the database (at the newest schema) and Redis answer", "Health")
@public
def healthz() -> ResponseReturnValue:
    services().check_health()
    return jsonify({"status": "ok"})
