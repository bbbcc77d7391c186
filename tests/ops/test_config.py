"""Production refuses unsafe settings, naming each; development and bench stay easy."""

from __future__ import annotations

import base64

import pytest

from config import BenchConfig, ConfigError, ProductionConfig

SAFE = {
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://charity@db.internal/charity",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_" + "a" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "c" * 24,
    "AUDITLOG_SIGNING_KEY": base64.b64encode(b"d" * 32).decode(),  # an Ed25519 seed
    "PUBLIC_BASE_URL": "https://charity.example",
    "SMTP_HOST": "smtp.charity.example",
    "PAYMENT_SECRETS_KEY": base64.urlsafe_b64encode(b"e" * 32).decode(),  # a Fernet key
    "TRUSTED_PROXIES": "1",
    "METRICS_TOKEN": "m" * 32,
}
UNSET = (
    "FLASK_DEBUG",
    "STRIPE_API_BASE",
    "ALLOW_TEST_STRIPE_KEYS",
    "MAIL_BACKEND",
    "WECHATPAY_API_BASE",
    "ALIPAY_GATEWAY",
    "TRUSTED_HOSTS",
)


@pytest.fixture
def production_env(monkeypatch):
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_safe_settings_start(production_env):
    config = ProductionConfig()
    assert config.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")
    assert SAFE["REDIS_URL"] == config.RATELIMIT_STORAGE_URI
    assert config.LOG_FORMAT == "json"
    assert config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["connect_timeout"] > 0
    assert config.TRUSTED_PROXIES == 1
    assert config.TRUSTED_HOSTS == "charity.example"  # from PUBLIC_BASE_URL unless set
    # loopback is exempt from page limits only in development and tests: behind a local
    # proxy with TRUSTED_PROXIES=0 every client would be 127.0.0.1
    assert config.RATELIMIT_EXEMPT_ADDRESSES == ""


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("FLASK_DEBUG", "1", "FLASK_DEBUG is on"),
        ("DATABASE_URL", "sqlite:////srv/charity.sqlite3", "DATABASE_URL is SQLite"),
        ("PUBLIC_BASE_URL", "http://charity.example", "PUBLIC_BASE_URL must start with https"),
        ("STRIPE_SECRET_KEY", "sk_test_" + "a" * 24, "STRIPE_SECRET_KEY is a Stripe test key"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_" + "a" * 24, "STRIPE_PUBLISHABLE_KEY is a Stripe"),
        ("STRIPE_API_BASE", "http://127.0.0.1:8420", "STRIPE_API_BASE is set"),
        ("SECRET_KEY", "too-short", "SECRET_KEY is shorter than 32"),
        ("REDIS_URL", None, "REDIS_URL is missing"),
        ("SMTP_HOST", None, "SMTP_HOST is not set"),
        ("AUDITLOG_SIGNING_KEY", "d" * 44, "AUDITLOG_SIGNING_KEY must be base64 of a 32-byte"),
        ("AUDITLOG_SIGNING_KEY", "not base64!", "AUDITLOG_SIGNING_KEY is neither"),
        ("PAYMENT_SECRETS_KEY", None, "missing environment variable PAYMENT_SECRETS_KEY"),
        ("PAYMENT_SECRETS_KEY", "not a key", "PAYMENT_SECRETS_KEY is not a Fernet key"),
        ("WECHATPAY_API_BASE", "http://127.0.0.1:8430", "WECHATPAY_API_BASE is set"),
        ("ALIPAY_GATEWAY", "http://127.0.0.1:8440/gateway.do", "ALIPAY_GATEWAY is set"),
        ("PUBLIC_BASE_URL", None, "missing environment variable PUBLIC_BASE_URL"),
        ("TRUSTED_PROXIES", None, "missing environment variable TRUSTED_PROXIES"),
        ("TRUSTED_PROXIES", "nginx", "TRUSTED_PROXIES must be the number of proxies"),
        ("METRICS_TOKEN", None, "missing environment variable METRICS_TOKEN"),
    ],
)
def test_each_unsafe_setting_is_refused_by_name(production_env, name, value, named):
    if value is None:
        production_env.delenv(name)
    else:
        production_env.setenv(name, value)
    with pytest.raises(ConfigError, match=named) as refused:
        ProductionConfig()
    assert str(refused.value).startswith("Refusing to start in production")
    if value and name in (
        "SECRET_KEY",
        "STRIPE_SECRET_KEY",
        "AUDITLOG_SIGNING_KEY",
        "PAYMENT_SECRETS_KEY",
    ):
        assert value not in str(refused.value)  # the message names, never shows, a secret


def test_all_problems_are_listed_at_once(production_env):
    production_env.setenv("FLASK_DEBUG", "1")
    production_env.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    with pytest.raises(ConfigError, match=r"FLASK_DEBUG.*STRIPE_API_BASE"):
        ProductionConfig()


def test_test_stripe_keys_allowed_for_a_staging_site(production_env):
    production_env.setenv("STRIPE_SECRET_KEY", "sk_test_" + "a" * 24)
    production_env.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_" + "a" * 24)
    production_env.setenv("ALLOW_TEST_STRIPE_KEYS", "1")
    assert ProductionConfig().STRIPE_SECRET_KEY.startswith("sk_test_")


def test_bench_needs_a_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        BenchConfig()
