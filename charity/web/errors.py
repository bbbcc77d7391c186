"""Friendly error pages for people and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from charity.extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/stripe/")


def json_error(status: int, code: str, message: str, **extra: object):  # type: ignore[no-untyped-def]
    """The API's one error shape: {"error": {"code", "message", ...}}."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _render(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    # The exception's own headers (Allow on a 405, WWW-Authenticate ...), not its body's type.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if wants_json():
        code = (error.name or "error").lower().replace(" ", "_")
        body, _status = json_error(status, code, error.description or error.name)
        return body, status, headers
    if isinstance(error, SecurityError):
        # An untrusted Host header (TRUSTED_HOSTS): no URL can be built for this request.
        return "400 Bad Request: unknown host name\n", 400, {"Content-Type": "text/plain"}
    template = (
        f"errors/{status}.html" if status in (400, 403, 404, 429, 500) else "errors/generic.html"
    )
    return render_template(template, error=error, status=status), status, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if error.response is not None:  # a response made for this error (a 429 that keeps
            return error.response  # the donor's form, the card step's JSON)
        response = _render(error)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            body, status, *headers = response
            extra = headers[0] if headers else {}
            return body, status, {**extra, "Retry-After": str(retry_after)}
        return response

    @app.errorhandler(Exception)
    def _unhandled(error: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise error
        return _render(InternalServerError())
