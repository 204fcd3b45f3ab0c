"""The OpenAPI 3.1 document at /api/v1/openapi.json, generated: nothing in it is written twice.

- Paths and methods come from the app's URL map; a view says what it does with `@documented`
  (web.apidoc, beside its route), and who may call it with its `web.access` declaration.
- Request bodies are the JSON Schema of the very rules that validate them (conference.fields
  `Rule`s, named in web.schemas), and so are the shapes derived from them.
- Error responses follow from what the operation takes: a body can be refused (400, 413, 415),
  a path parameter can name nothing (404), credentials can be missing (401, 403); the common
  ones are described once, in components/responses.

An endpoint the document cannot describe (a view without `@documented`) makes building the
document fail, and a test builds it.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Flask

from web import schemas
from web.access import access_of
from web.apidoc import Operation, Schema, operation_of
from web.auth import API_PREFIX

_EXTENSION = "kamconf.openapi"


def document(app: Flask) -> dict[str, Any]:
    """The document of this app, built once."""
    found: dict[str, Any] | None = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions[_EXTENSION] = _build(app)
    return found


def _build(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("panel.") or rule.endpoint == "static":
            continue  # the panel's pages are HTML, not the API
        view = app.view_functions[rule.endpoint]
        operation = operation_of(view)
        if operation is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @documented: the API document cannot describe it")
        inside = rule.rule.startswith(API_PREFIX + "/")
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API_PREFIX):] if inside else rule.rule)
        item = paths.setdefault(path, {} if inside else {"servers": [{"url": "/"}]})
        access = access_of(app, rule.endpoint)
        public = access is not None and access.role is None
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation(operation, rule.endpoint.removeprefix("api."),
                                              sorted(rule.arguments - set(rule.defaults or {})), public)
    return {
        "openapi": "3.1.0",
        "info": {"title": "kamconf API", "version": "1", "description": schemas.ABOUT,
                 "license": {"name": "GPL-2.0-or-later", "identifier": "GPL-2.0-or-later"}},
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "kamconf_session"}},
            "schemas": schemas.SCHEMAS,
            "responses": {name: _error(why) for name, (_, why) in _COMMON.items()},
        },
        "paths": paths,
    }


def _operation(operation: Operation, endpoint: str, arguments: list[str], public: bool) -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in arguments]
    parameters += [{"name": name, "in": "query", "required": name in operation.required_query,
                    "schema": rule.described()} for name, rule in operation.query.items()]
    found: dict[str, Any] = {"operationId": endpoint, "summary": operation.summary}
    if operation.about:
        found["description"] = operation.about
    if public:
        found["security"] = []
    if parameters:
        found["parameters"] = parameters
    if operation.body is not None:
        found["requestBody"] = {"required": operation.body.required, "content": {
            operation.body.media: {"schema": _ref(operation.body.schema)}}}
    success: dict[str, Any] = {"description": HTTPStatus(operation.status).phrase}
    if operation.returns is not None:
        success["content"] = {operation.media: {"schema": _schema(operation.returns)}}
    found["responses"] = {str(operation.status): success, **{
        str(status): answer for status, answer in sorted(_errors(operation, arguments, public).items())}}
    return found


# The answers many operations share, described once (components/responses): name, status, when.
_COMMON = {
    "Internal": (500, "An unexpected error, logged on the server (internal_error)."),
    "Unavailable": (503, "The database or Redis does not answer (unavailable). A change is all or nothing: nothing "
                         "was written. Retry later."),
    "Unauthorized": (401, "No credentials (bearer token or session cookie), or ones that are unknown, expired, "
                          "revoked or of a disabled account (unauthorized)."),
    "Forbidden": (403, "The account's role does not allow this (forbidden), or a change through the session cookie "
                       "came without its CSRF token (bad_csrf_token)."),
    "BadQuery": (400, "A query parameter is wrong (invalid_field, unknown_field or missing_field; error.field names "
                      "it)."),
    "Invalid": (400, "A field is wrong (invalid_field, unknown_field, missing_field or immutable_field; error.field "
                     "names it) or the body is not a JSON object (bad_request). " + schemas.STRICT),
    "TooLarge": (413, "The body is over 64 KiB (too_large)."),
    "NotJson": (415, "The body is not sent as application/json (unsupported_media_type)."),
}


def _error(why: str) -> dict[str, Any]:
    return {"description": why, "content": {"application/json": {"schema": _ref("Error")}}}


def _errors(operation: Operation, arguments: list[str], public: bool) -> dict[int, dict[str, Any]]:
    """The error answers of an operation: its own, and those that follow from what it takes."""
    common = ["Internal", "Unavailable"]
    if not public:
        common += ["Unauthorized", "Forbidden"]
    if operation.query:
        common.append("BadQuery")
    if operation.body is not None and operation.body.media == "application/json":
        common += ["Invalid", "TooLarge", "NotJson"]
    found = {_COMMON[name][0]: {"$ref": f"#/components/responses/{name}"} for name in common}
    if arguments:
        found[404] = _error(f"No such {' / '.join(arguments)} (not_found).")
    return {**found, **{status: _error(why) for status, why in operation.errors.items()}}


def _ref(name: str) -> dict[str, str]:
    if name not in schemas.SCHEMAS:
        raise LookupError(f"no schema {name!r} in web.schemas")
    return {"$ref": f"#/components/schemas/{name}"}


def _schema(returns: str | list[str] | Schema) -> Schema:
    if isinstance(returns, str):
        return _ref(returns)
    if isinstance(returns, list):
        return {"type": "array", "items": _ref(returns[0])}
    return returns

