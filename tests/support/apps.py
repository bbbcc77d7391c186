"""Apps built with another configuration than the suite's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

import config
from charity import create_app


@pytest.fixture
def production_app(monkeypatch, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The production configuration with every required setting given (nothing reachable:
    the database and Redis are never connected), and a view that crashes (``/_test/crash``
    and ``/api/v1/_test/crash``) to show what an error looks like."""
    for name in config.ProductionConfig.REQUIRED:
        monkeypatch.setenv(name, "p" * 40)
    monkeypatch.setenv("AUDITLOG_SIGNING_KEY", config.TESTING_AUDITLOG_KEY)  # must be a key
    monkeypatch.setenv("PAYMENT_SECRETS_KEY", config.TESTING_PAYMENT_SECRETS_KEY)  # and this
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://localhost")  # the test client's host
    monkeypatch.setenv("TRUSTED_PROXIES", "0")
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    monkeypatch.delenv("WECHATPAY_API_BASE", raising=False)
    monkeypatch.delenv("ALIPAY_GATEWAY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/never_connected")
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # required; never reached here
    from charity.extensions import db, limiter

    limiter_was_enabled = limiter.enabled  # the switch is process-global: put it back
    application = create_app(config.ProductionConfig())
    application.instance_path = str(tmp_path)

    def crash():  # type: ignore[no-untyped-def]
        raise KeyError("internal detail: table donations column secret_salt")

    application.add_url_rule("/_test/crash", "crash", crash)
    application.add_url_rule("/api/v1/_test/crash", "api_crash", crash)
    yield application
    limiter.enabled = limiter_was_enabled
    with application.app_context():
        db.engine.dispose()
