"""Logging: JSON lines in production, readable text in development, secrets never written.

Every record logged while a request is handled carries its request id, method and path.
The request id comes from the ``X-Request-ID`` header when it looks like one (a load
balancer or proxy set it) and is generated otherwise; the response echoes it, so a user's
report, the proxy's log and ours can be joined. With ``LOG_REQUESTS`` on, one line per
request adds the status and the duration.

Masking happens in a filter on our handler, before any formatter runs: the values of the
secret config keys (``config.SECRET_CONFIG_KEYS``), Stripe secret keys and webhook secrets
by their shape, and passwords inside connection URLs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from charity.core.notifications import is_notification
from config import SECRET_CONFIG_KEYS

#: Shapes of secrets that must never reach a log, whatever config they came from.
SECRET_PATTERNS = (
    re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"),
)
#: ``scheme://user:password@host`` -> ``scheme://user:***@host``
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
MASK = "***"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
#: Attributes of every LogRecord; anything else a caller passed in ``extra`` is output too.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "method", "path"}
)
_HANDLER_MARK = "_charity_handler"


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record so that no secret value survives into any formatter."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(MASK, text)
        return URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.mask(value))
        return True


class RequestContextFilter(logging.Filter):
    """Adds request_id, method and path (None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.method = request.method
            record.path = request.path
        else:
            record.request_id = record.method = record.path = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "method": getattr(record, "method", None),
            "path": getattr(record, "path", None),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (test runners swap it), not the one at start."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def build_handler(
    log_format: str, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    handler = logging.StreamHandler(stream or _CurrentStderr())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(SecretMaskingFilter(secrets))
    setattr(handler, _HANDLER_MARK, True)
    return handler


def secret_values(config: dict) -> list[str]:
    return [str(config[key]) for key in SECRET_CONFIG_KEYS if config.get(key)]


def configure_logging(app: Flask) -> logging.Handler:
    """Our handler on the ``charity`` logger (app.logger), replacing any earlier one."""
    logger = logging.getLogger("charity")
    for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(old)
    logger.removeHandler(default_handler)
    handler = build_handler(app.config.get("LOG_FORMAT", "text"), secret_values(app.config))
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return handler


def request_id_from(header: str | None) -> str:
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    configure_logging(app)
    request_logger = logging.getLogger("charity.request")

    @app.before_request
    def _start_request() -> None:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish_request(response: Response) -> Response:
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[REQUEST_ID_HEADER] = request_id
        if app.config.get("LOG_REQUESTS") and not (
            response.status_code < 400 and is_notification()
        ):  # a provider's delivery that succeeded: kept in provider_events, counted in /metrics
            started = g.get("request_started", time.perf_counter())
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response
