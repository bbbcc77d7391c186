"""Typed configuration read from the environment.

Development needs nothing set: SQLite and a generated secret live in ``instance/``.
Production refuses to start while a required secret is missing and names it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CHARITY_INSTANCE", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


def _instance_secret(name: str, nbytes: int = 32) -> str:
    """A random secret generated once and kept in instance/ so restarts keep sessions."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def _instance_signing_key(name: str) -> str:
    """An Ed25519 seed (standard base64 of 32 random bytes) generated once into instance/."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


#: The testing audit-log key: a fixed, public Ed25519 seed (never use it elsewhere).
TESTING_AUDITLOG_KEY = base64.b64encode(
    hashlib.sha256(b"charity testing log key").digest()
).decode()


def database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs (as Heroku-style hosts give)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    ENV_NAME = "base"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    #: Mail: "console" writes to the log and to instance/mail/, "smtp" sends.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@charity.local")
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    #: Failed logins allowed per account/IP in LOGIN_THROTTLE_WINDOW seconds.
    LOGIN_THROTTLE_ATTEMPTS = _int("LOGIN_THROTTLE_ATTEMPTS", 5)
    LOGIN_THROTTLE_WINDOW = _int("LOGIN_THROTTLE_WINDOW", 900)
    #: Failed logins allowed per IP address in the window (many people share an address).
    LOGIN_THROTTLE_IP_ATTEMPTS = _int("LOGIN_THROTTLE_IP_ATTEMPTS", 20)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PASSWORD_RESET_MAX_AGE = 3600
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "charity"
    #: Rate limits (Flask-Limiter syntax), per client IP unless named otherwise. The login
    #: form also has its own throttle on failed attempts (LOGIN_THROTTLE_*).
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "30 per minute;200 per hour")
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "10 per hour;50 per day")
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "10 per hour")
    #: Creating a donation (card-testing protection). A declined card is retried on the
    #: same donation and does not count; honest donors give a few times at most.
    RATELIMIT_DONATION_IP = os.environ.get("RATELIMIT_DONATION_IP", "10 per hour;30 per day")
    RATELIMIT_DONATION_EMAIL = os.environ.get("RATELIMIT_DONATION_EMAIL", "5 per hour;20 per day")
    #: Card attempts (declines included) on donations already created, per IP.
    RATELIMIT_PAYMENT_ATTEMPT = os.environ.get("RATELIMIT_PAYMENT_ATTEMPT", "20 per hour")
    #: The public JSON API, per IP.
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "300 per minute")
    #: Stripe: the platform's secret key; donations are direct charges on each
    #: organization's connected account.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # set for localstripe only
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
    #: Largest single online gift, in fen (default ¥50,000).
    DONATION_MAX_FEN = _int("DONATION_MAX_FEN", 5_000_000)
    #: Audit log: the origin line of checkpoints and the signing key. AUDITLOG_SIGNING_KEY
    #: is standard base64 of a 32-byte Ed25519 seed (named AUDITLOG_KEY_NAME) or a
    #: "PRIVATE+KEY+name+keyid+key" signer string (`flask audit new-key` prints one).
    AUDITLOG_ORIGIN = os.environ.get("AUDITLOG_ORIGIN", "charity.example/log")
    AUDITLOG_KEY_NAME = os.environ.get("AUDITLOG_KEY_NAME", "charity.example/log")
    AUDITLOG_SIGNING_KEY = os.environ.get("AUDITLOG_SIGNING_KEY", "")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # the debugger is opt-in with FLASK_DEBUG=1

    def __init__(self) -> None:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret("secret_key")
        self.SQLALCHEMY_DATABASE_URI = database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'charity.sqlite3'}")
        )
        self.AUDITLOG_SIGNING_KEY = self.AUDITLOG_SIGNING_KEY or _instance_signing_key(
            "auditlog_signing_key"
        )
        self.STRIPE_SECRET_KEY = self.STRIPE_SECRET_KEY or "sk_test_localstripe"
        self.STRIPE_PUBLISHABLE_KEY = self.STRIPE_PUBLISHABLE_KEY or "pk_test_localstripe"
        self.STRIPE_WEBHOOK_SECRET = self.STRIPE_WEBHOOK_SECRET or _instance_secret(
            "stripe_webhook_secret"
        )
        port = os.environ.get("LOCALSTRIPE_PORT", "8420")
        self.STRIPE_API_BASE = self.STRIPE_API_BASE or f"http://127.0.0.1:{port}"
        if "STRIPE_JS_URL" not in os.environ:
            self.STRIPE_JS_URL = f"http://127.0.0.1:{port}/js.stripe.com/v3/"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    MAIL_BACKEND = "memory"
    PASSWORD_HASH_FAST = True  # cheaper argon2 parameters so the suite stays quick
    STRIPE_SECRET_KEY = "sk_test_localstripe"  # noqa: S105
    STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    STRIPE_WEBHOOK_SECRET = "whsec_testing"  # noqa: S105
    AUDITLOG_SIGNING_KEY = TESTING_AUDITLOG_KEY
    AUDITLOG_ORIGIN = "charity.test/log"
    AUDITLOG_KEY_NAME = "charity.test/log"

    def __init__(self, db_url: str | None = None, **overrides: object) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url(
            db_url or os.environ.get("TEST_DATABASE_URL", "sqlite://")
        )
        for key, value in overrides.items():
            setattr(self, key, value)


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    REQUIRED = (
        "SECRET_KEY",
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "AUDITLOG_SIGNING_KEY",
    )

    def __init__(self) -> None:
        missing = [name for name in self.REQUIRED if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "Refusing to start in production: missing environment variable(s): "
                + ", ".join(missing)
            )
        self.SECRET_KEY = os.environ["SECRET_KEY"]
        self.MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
        if self.MAIL_BACKEND == "smtp" and not os.environ.get("SMTP_HOST"):
            raise ConfigError("Refusing to start in production: SMTP_HOST is not set")
        if len(self.SECRET_KEY) < 32:
            raise ConfigError("Refusing to start in production: SECRET_KEY is shorter than 32")
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"])
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            raise ConfigError("Refusing to start in production: DATABASE_URL must be PostgreSQL")
        if os.environ.get("STRIPE_API_BASE"):
            raise ConfigError(
                "Refusing to start in production: STRIPE_API_BASE points Stripe elsewhere"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    name = name or os.environ.get("CHARITY_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(f"Unknown CHARITY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
