"""/api/v1/webhooks: operators' URLs that receive room events, signed (conference.webhooks); what was
delivered to each, with every try's answer, and replaying one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from conference.fields import FieldError, Rule, clean, one_of, require
from conference.webhooks import RULES, UrlRefusedError, target
from store.accounts import Role
from store.queue import enqueue_delivery
from store.webhooks import State, TooManyEndpointsError, WebhookRepository
from web.access import ApiBlueprint, number_of
from web.apidoc import documented
from web.errors import ApiError
from web.rooms import json_body
from web.services import services

log = logging.getLogger("kamconf.web")
blueprint = ApiBlueprint("webhooks", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.webhooks"
FILTERS: dict[str, Rule] = {"state": one_of(*State).means("Only the deliveries in this state")}
SECRET = ("The answer carries the endpoint's secret, the only time it is shown: keep it where the receiver "
          "checks signatures.")


@dataclass(frozen=True)
class Webhooks:
    repository: WebhookRepository
    allow_private: bool  # [webhooks] allow_private


def webhooks() -> Webhooks:
    found: Webhooks = current_app.extensions[EXTENSION]
    return found


def validate(payload: Any, new: bool) -> dict[str, Any]:
    fields = clean(payload, RULES)
    if new:
        require(fields, "url", "events")
    if "url" in fields:
        try:
            target(fields["url"], webhooks().allow_private)
        except UrlRefusedError as exc:
            raise FieldError("url", "invalid_field", str(exc)) from exc
    return fields


def now() -> datetime:
    return datetime.now(UTC)


@blueprint.get("/webhooks")
@documented("Webhook endpoints (never their secrets)", ["Webhook"])
def list_webhooks() -> ResponseReturnValue:
    return jsonify(webhooks().repository.endpoints())


@blueprint.post("/webhooks")
@documented("Register a URL for room events", "NewWebhook", status=201, body="WebhookCreate", about=SECRET,
            errors={409: "As many endpoints as allowed are registered (conflict)."})
def create_webhook() -> ResponseReturnValue:
    try:
        return jsonify(webhooks().repository.create(validate(json_body(), new=True), now())), 201
    except TooManyEndpointsError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc


@blueprint.get("/webhooks/<webhook_id>")
@documented("One webhook endpoint", "Webhook")
def get_webhook(webhook_id: str) -> ResponseReturnValue:
    return jsonify(webhooks().repository.get(number_of("webhook", webhook_id)))


@blueprint.patch("/webhooks/<webhook_id>")
@documented("Change a webhook endpoint (its URL, events, description, or whether it is on)", "Webhook",
            body="WebhookPatch")
def patch_webhook(webhook_id: str) -> ResponseReturnValue:
    endpoint = number_of("webhook", webhook_id)
    return jsonify(webhooks().repository.update(endpoint, validate(json_body(), new=False), now()))


@blueprint.delete("/webhooks/<webhook_id>")
@documented("Delete a webhook endpoint and what was delivered to it", status=204)
def delete_webhook(webhook_id: str) -> ResponseReturnValue:
    webhooks().repository.delete(number_of("webhook", webhook_id))
    return "", 204


@blueprint.post("/webhooks/<webhook_id>/secret")
@documented("Give the endpoint a new secret (the old one signs nothing more)", "NewWebhook", about=SECRET)
def rotate_secret(webhook_id: str) -> ResponseReturnValue:
    return jsonify(webhooks().repository.rotate(number_of("webhook", webhook_id), now()))


@blueprint.get("/webhooks/<webhook_id>/deliveries")
@documented("The endpoint's newest deliveries (100), each with its tries and their answers", ["WebhookDelivery"],
            query=FILTERS)
def list_deliveries(webhook_id: str) -> ResponseReturnValue:
    endpoint = number_of("webhook", webhook_id)
    filters = clean(request.args.to_dict(), FILTERS)
    return jsonify(webhooks().repository.deliveries(endpoint, filters.get("state")))


@blueprint.post("/webhooks/<webhook_id>/deliveries/<delivery_id>/replay")
@documented("Send a delivery again, whatever became of it: a new series of tries, signed afresh",
            "WebhookDelivery", status=202)
def replay_delivery(webhook_id: str, delivery_id: str) -> ResponseReturnValue:
    replayed = webhooks().repository.replay(number_of("webhook", webhook_id), number_of("delivery", delivery_id),
                                            now())
    try:
        enqueue_delivery(services().queue, replayed["id"], 1)
    except redis.RedisError as exc:  # written in SQL: the worker's sweep queues it within two minutes
        log.error("webhook delivery %s: replay not queued now (%s); the worker's sweep will", replayed["id"], exc)
    return jsonify(replayed), 202
