"""One JSON error shape for every failure: {"error": {"id", "message", "field"?}}.

`id` is stable (clients switch on it, OpenAPI lists it); `message` is for people;
`field` names the request field at fault, when there is one.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from conference.fields import FieldError
from store.accounts import LastAdminError
from store.audio import AudioError
from store.projected import ConflictError, ExistsError, NotFoundError
from store.signin import LockedError, WrongCredentialsError
from store.sounds import SoundInUseError, SoundNotFoundError
from store.sql import StoreUnavailableError

log = logging.getLogger("kamconf.web")

# Every id the API answers with.
ERROR_IDS = (
    "bad_request", "invalid_field", "unknown_field", "missing_field", "immutable_field",
    "unauthorized", "forbidden", "bad_csrf_token", "not_found", "method_not_allowed", "duplicate", "conflict",
    "in_use", "last_admin", "too_large", "unsupported_media_type", "too_many_requests", "unavailable",
    "internal_error",
)
_HTTP_IDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests", 500: "internal_error",
             503: "unavailable"}


class ApiError(Exception):
    def __init__(
        self, status: int, error_id: str, message: str, field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error_id, self.message, self.field = status, error_id, message, field
        self.headers = headers or {}


def error_response(status: int, error_id: str, message: str, field: str | None = None) -> Response:
    body: dict[str, str] = {"id": error_id, "message": message}
    if field:
        body["field"] = field
    response = jsonify({"error": body})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(FieldError, _field_error)
    # Handlers are found by class: the subclasses of ExistsError first.
    app.register_error_handler(NotFoundError, _not_found)
    app.register_error_handler(ConflictError, _conflict)
    app.register_error_handler(ExistsError, _duplicate)
    app.register_error_handler(SoundNotFoundError, _sound_not_found)
    app.register_error_handler(SoundInUseError, _sound_in_use)
    app.register_error_handler(AudioError, _bad_audio)
    app.register_error_handler(LastAdminError, _last_admin)
    app.register_error_handler(LockedError, _locked)
    app.register_error_handler(WrongCredentialsError, _wrong_credentials)
    app.register_error_handler(StoreUnavailableError, _store_unavailable)
    app.register_error_handler(SQLAlchemyError, _database_down)
    app.register_error_handler(RedisError, _redis_down)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected)


def _api_error(err: ApiError) -> Response:
    response = error_response(err.status, err.error_id, err.message, err.field)
    response.headers.update(err.headers)
    return response


def _field_error(err: FieldError) -> Response:
    return error_response(400, err.error_id, err.message, err.field)


def _not_found(err: NotFoundError) -> Response:
    return error_response(404, "not_found", f"no {err.kind} {err.key}")


def _duplicate(err: ExistsError) -> Response:
    return error_response(409, "duplicate", f"{err.key} is taken: a {err.kind} has it", err.field)


def _conflict(err: ConflictError) -> Response:
    return error_response(409, "conflict", f"{err.kind} {err.key} kept changing under this request; try again")


def _sound_not_found(err: SoundNotFoundError) -> Response:
    return error_response(404, "not_found", f"no sound {err}")


def _sound_in_use(err: SoundInUseError) -> Response:
    return error_response(409, "in_use", f"sound {err.sound_id} is the greeting or the music of room(s) "
                                         f"{', '.join(err.rooms)}; change their greeting_sound_id or music_sound_id "
                                         "first")


def _bad_audio(err: AudioError) -> Response:
    return error_response(400, "invalid_field", str(err), "file")


def _last_admin(_err: LastAdminError) -> Response:
    return error_response(409, "last_admin", "this is the last enabled admin: make another admin first")


def _locked(err: LockedError) -> Response:
    response = error_response(429, "too_many_requests", str(err))
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def _wrong_credentials(_err: WrongCredentialsError) -> Response:
    # One answer for an unknown name, a wrong password and a disabled account.
    response = error_response(401, "unauthorized", "wrong name or password, or the account is disabled")
    response.headers["WWW-Authenticate"] = 'Bearer realm="kamconf"'
    return response


def _store_unavailable(err: StoreUnavailableError) -> Response:
    log.error("%s unavailable: %s", err, err.__cause__)
    return error_response(503, "unavailable", f"{err} is unavailable; nothing was changed")


def _database_down(err: SQLAlchemyError) -> Response:
    log.error("database: %s", err)
    return error_response(503, "unavailable", "the database is unavailable; nothing was changed")


def _redis_down(err: RedisError) -> Response:
    log.error("redis: %s", err)
    return error_response(503, "unavailable", "live state (Redis) is unavailable; nothing was changed")


def http_error(err: HTTPException) -> BaseResponse:
    if err.code is not None and err.code < 400:
        return err.get_response()  # routing's redirects (e.g. "//" merged) are not errors
    status = err.code or 500
    error_id = _HTTP_IDS.get(status) or (err.name or "error").lower().replace(" ", "_")
    response = error_response(status, error_id, err.description or err.name)
    allow = dict(err.get_headers()).get("Allow")
    if allow:  # a 405 names the methods that would work
        response.headers["Allow"] = allow
    return response


def _unexpected(err: Exception) -> Response:
    log.exception("unhandled error")
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
