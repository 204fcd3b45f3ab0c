"""Webhooks: each endpoint (registered through the API) with its newest deliveries and what became
of their tries; read-only, over the API's own repository (web.webhooks)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from store.accounts import Role
from store.webhooks import State
from web.access import requires
from web.panel import blueprint
from web.webhooks import webhooks

SHOWN = 10  # deliveries per endpoint on the page; the API lists 100
STATES = {State.PENDING: _l("waiting"), State.DELIVERED: _l("delivered"), State.FAILED: _l("failed")}


@blueprint.get("/webhooks")
@requires(Role.OPERATOR)
def webhooks_page() -> ResponseReturnValue:
    repository = webhooks().repository
    endpoints = [{**endpoint, "deliveries": repository.deliveries(endpoint["id"])[:SHOWN]}
                 for endpoint in repository.endpoints()]
    return render_template("webhooks.html", endpoints=endpoints, states=STATES)
