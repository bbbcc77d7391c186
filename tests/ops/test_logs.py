"""Logs: JSON lines in production, request ids, and secrets masked whatever the path."""

from __future__ import annotations

import io
import json
import logging
import os
import re

import pytest

from charity.ops.logs import REQUEST_ID_HEADER, configure_logging

LIVE_KEY = "sk_live_51HxYzAbCdEfGhIjKlMnOp"
TEST_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
HOOK_SECRET = "whsec_9f8e7d6c5b4a3f2e1d0c"
SMTP_PASSWORD = "correct-horse-battery-staple"
SESSION_SECRET = "a-session-secret-of-at-least-32-characters"


def _capture(application) -> io.StringIO:
    """Point the app's own log handler at a buffer (configure_logging installs it)."""
    buffer = io.StringIO()
    with application.app_context():
        handler = configure_logging(application)
    handler.setStream(buffer)
    return buffer


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


@pytest.fixture
def json_app(make_app):
    return make_app(
        LOG_FORMAT="json",
        LOG_REQUESTS=True,
        SECRET_KEY=SESSION_SECRET,
        STRIPE_SECRET_KEY="rk_custom_not_shaped_like_a_key_1234",
        SMTP_PASSWORD=SMTP_PASSWORD,
    )


def test_one_json_object_per_request_with_its_fields(json_app):
    buffer = _capture(json_app)
    response = json_app.test_client().get("/healthz")
    request_id = response.headers[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = [entry for entry in _lines(buffer) if entry["logger"] == "charity.request"]
    assert line["level"] == "INFO"
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_a_request_id_from_the_proxy_is_kept(json_app):
    buffer = _capture(json_app)
    response = json_app.test_client().get("/", headers={REQUEST_ID_HEADER: "lb-7f3a9c21-01"})
    assert response.headers[REQUEST_ID_HEADER] == "lb-7f3a9c21-01"
    assert _lines(buffer)[-1]["request_id"] == "lb-7f3a9c21-01"


@pytest.mark.parametrize("bad", ["short", "has space inside it", "x" * 200, "id\nforged: 1"])
def test_a_malformed_request_id_is_replaced(json_app, bad):
    response = json_app.test_client().get("/", headers={REQUEST_ID_HEADER: bad.replace("\n", "")})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers[REQUEST_ID_HEADER])


def test_every_record_in_a_request_carries_its_id(json_app):
    buffer = _capture(json_app)
    with json_app.test_request_context("/donate", headers={REQUEST_ID_HEADER: "req-12345678"}):
        json_app.preprocess_request()
        logging.getLogger("charity.payments").warning("card declined")
    [line] = _lines(buffer)
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "charity.payments",
        "message": "card declined",
        "request_id": "req-12345678",
        "method": "GET",
        "path": "/donate",
        "pid": os.getpid(),
    }


def test_secrets_are_masked_in_messages_arguments_extras_and_tracebacks(json_app):
    buffer = _capture(json_app)
    logger = logging.getLogger("charity.payments")
    with json_app.test_request_context("/stripe/webhook"):
        logger.info("using key %s and %s", LIVE_KEY, TEST_KEY)
        logger.info("webhook secret is " + HOOK_SECRET)
        logger.info("smtp login with %s", SMTP_PASSWORD, extra={"detail": SMTP_PASSWORD})
        logger.info("session key %s", SESSION_SECRET)
        logger.info("custom key %s", json_app.config["STRIPE_SECRET_KEY"])
        logger.info("db at postgresql://charity:pg-pass-123@db.internal/charity")
        try:
            raise ValueError(f"Stripe said no to {LIVE_KEY}")
        except ValueError:
            logger.exception("stripe call failed")
    text = buffer.getvalue()
    for secret in (
        LIVE_KEY,
        TEST_KEY,
        HOOK_SECRET,
        SMTP_PASSWORD,
        SESSION_SECRET,
        "rk_custom_not_shaped_like_a_key_1234",
        "pg-pass-123",
    ):
        assert secret not in text
    lines = _lines(buffer)
    assert lines[0]["message"] == "using key *** and ***"
    assert lines[2]["detail"] == "***"
    assert lines[5]["message"] == "db at postgresql://charity:***@db.internal/charity"
    assert "ValueError: Stripe said no to ***" in lines[6]["exception"]


def test_development_logs_are_plain_text(make_app):
    text_app = make_app(LOG_FORMAT="text", LOG_REQUESTS=True)
    buffer = _capture(text_app)
    response = text_app.test_client().get("/", headers={"X-Request-ID": "dev-req-0001"})
    line = buffer.getvalue().strip().splitlines()[-1]
    assert not line.startswith("{")
    assert "INFO charity.request [dev-req-0001] GET / 200" in line
    assert response.headers["X-Request-ID"] == "dev-req-0001"


def test_configuring_twice_leaves_one_handler(app):
    configure_logging(app)
    configure_logging(app)
    ours = [h for h in logging.getLogger("charity").handlers if hasattr(h, "_charity_handler")]
    assert len(ours) == 1
