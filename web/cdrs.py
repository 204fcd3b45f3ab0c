"""/api/v1/cdrs: call detail records, newest first, with filters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from conference.billing import Disposition
from store.accounts import Role
from store.cdrs import MAX_LIST, CdrFilter, CdrRepository
from web.access import ApiBlueprint
from web.apidoc import documented
from web.errors import ApiError

blueprint = ApiBlueprint("cdrs", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.cdrs"
# What a query may filter by (the API's and the panel's), as the document describes them.
FILTERS: dict[str, dict[str, Any]] = {
    "since": {"type": "string", "format": "date-time",
              "description": "Started at or after (ISO 8601; UTC unless a zone is given)."},
    "until": {"type": "string", "format": "date-time", "description": "Started before."},
    "extension": {"type": "string", "description": "Billed to or placed by this extension."},
    "number": {"type": "string", "description": "Called or calling number."},
    "call": {"type": "string", "description": "Legs of one call or room."},
    "disposition": {"type": "string", "enum": list(Disposition)},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIST, "default": 100},
}


def cdrs() -> CdrRepository:
    found: CdrRepository = current_app.extensions[EXTENSION]
    return found


@blueprint.get("/cdrs")
@documented("Call detail records of the legs bridge nodes dialled, newest first", ["Cdr"], query=FILTERS)
def list_cdrs() -> ResponseReturnValue:
    return jsonify(cdrs().list(cdr_filter(request.args)))


def cdr_filter(args: Mapping[str, str]) -> CdrFilter:
    """The filter a query asks for (the API's and the panel's), or ApiError naming the field at fault."""
    unknown = sorted(set(args) - set(FILTERS))
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown filter {unknown[0]!r}; known: {', '.join(FILTERS)}", unknown[0])
    for name in ("extension", "number"):
        value = args.get(name)
        if value is not None and not (value.lstrip("+").isdigit() and value.isascii() and len(value) <= 33):
            raise ApiError(400, "invalid_field", f"{name} must be a number", name)
    disposition = args.get("disposition")
    if disposition is not None and disposition not in set(Disposition):
        raise ApiError(400, "invalid_field", f"disposition must be one of {', '.join(Disposition)}", "disposition")
    limit = args.get("limit", "100")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIST):
        raise ApiError(400, "invalid_field", f"limit must be an integer 1-{MAX_LIST}", "limit")
    return CdrFilter(since=_moment(args, "since"), until=_moment(args, "until"), extension=args.get("extension"),
                     number=args.get("number"), call=args.get("call"), disposition=disposition, limit=int(limit))


def _moment(args: Mapping[str, str], name: str) -> datetime | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"{name} must be an ISO 8601 date or time", name) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
