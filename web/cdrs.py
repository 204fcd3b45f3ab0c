"""/api/v1/cdrs: call detail records, newest first, with filters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from conference.billing import Disposition
from conference.fields import Rule, clean, decimal, digits, matching, one_of, text
from conference.rooms import MAX_NUMBER_LENGTH
from store.accounts import Role
from store.cdrs import MAX_LIST, CdrFilter, CdrRepository
from web.access import ApiBlueprint
from web.apidoc import documented

blueprint = ApiBlueprint("cdrs", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.cdrs"
MAX_CALL = 200  # a room number or a call's id


def _moment_ok(value: Any) -> bool:
    return isinstance(value, str) and _moment(value) is not None


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# What a query may filter by (the API's and the panel's).
FILTERS = {
    "since": Rule(_moment_ok, "an ISO 8601 date or time", {"type": "string", "format": "date-time"},
                  "Started at or after (ISO 8601; UTC unless a zone is given)."),
    "until": Rule(_moment_ok, "an ISO 8601 date or time", {"type": "string", "format": "date-time"},
                  "Started before."),
    "extension": digits(MAX_NUMBER_LENGTH).means("Billed to or placed by this extension."),
    "number": matching(r"\+?[0-9]{1,32}", "a number: digits, optionally after +").means("Called or calling number."),
    "call": text(MAX_CALL).means("Legs of one call or room."),
    "disposition": one_of(*Disposition),
    "limit": decimal(1, MAX_LIST).means("At most this many (default 100)"),
}


def cdrs() -> CdrRepository:
    found: CdrRepository = current_app.extensions[EXTENSION]
    return found


@blueprint.get("/cdrs")
@documented("Call detail records of the legs bridge nodes dialled, newest first", ["Cdr"], query=FILTERS)
def list_cdrs() -> ResponseReturnValue:
    return jsonify(cdrs().list(cdr_filter(request.args)))


def cdr_filter(args: Mapping[str, str]) -> CdrFilter:
    """The filter a query asks for (the API's and the panel's), or FieldError naming the field at fault."""
    asked = clean(dict(args), FILTERS)
    return CdrFilter(since=_moment(asked.get("since")), until=_moment(asked.get("until")),
                     extension=asked.get("extension"), number=asked.get("number"), call=asked.get("call"),
                     disposition=asked.get("disposition"), limit=int(asked.get("limit", "100")))
