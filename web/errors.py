"""One JSON error shape for every failure: {"error": {"id", "message", "field"?}}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("kamconf.web")


class ApiError(Exception):
    def __init__(self, status: int, error_id: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error_id, self.message, self.field = status, error_id, message, field


def error_body(error_id: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    body = {"id": error_id, "message": message}
    if field is not None:
        body["field"] = field
    return {"error": body}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> ResponseReturnValue:
        return jsonify(error_body(err.error_id, err.message, err.field)), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> ResponseReturnValue:
        error_id = (err.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(error_id, err.description or err.name)), err.code or 500

    @app.errorhandler(SQLAlchemyError)
    def database_down(err: SQLAlchemyError) -> ResponseReturnValue:
        log.error("database: %s", err)
        return jsonify(error_body("unavailable", "the database is unavailable")), 503

    @app.errorhandler(RedisError)
    def redis_down(err: RedisError) -> ResponseReturnValue:
        log.error("redis: %s", err)
        return jsonify(error_body("unavailable", "live state (Redis) is unavailable")), 503

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "an unexpected error occurred; it has been logged")), 500
