"""Typed configuration read from the environment.

Development needs nothing set: SQLite and a generated secret live in ``instance/``.
Production refuses to start while a required secret is missing and names it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

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


def _instance_fernet_key(name: str) -> str:
    """A Fernet key (url-safe base64 of 32 random bytes) generated once into instance/."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


#: The testing merchant-secrets key: fixed and public (never use it elsewhere).
TESTING_PAYMENT_SECRETS_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"charity testing payment secrets").digest()
).decode()

#: The testing audit-log key: a fixed, public Ed25519 seed (never use it elsewhere).
#: The default checkpoint origin and key name (set your own domain in production).
DEFAULT_LOG = "charity.example/log"
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


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _on(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def transaction_pooling(options: dict) -> dict:
    """Engine options for PgBouncer in transaction pooling mode (``DB_TRANSACTION_POOLING=1``).

    Consecutive transactions of one connection may then run on different server
    connections, so nothing may outlive a transaction on the server: psycopg's automatic
    server-side prepared statements (after a statement's 5th run) are switched off. The
    app holds no session state otherwise: ``SET LOCAL`` only, no session advisory locks,
    no ``LISTEN`` (docs/scaling.md, "PgBouncer")."""
    if not _on(os.environ.get("DB_TRANSACTION_POOLING")):
        return options
    connect_args = {**options.get("connect_args", {}), "prepare_threshold": None}
    return {**options, "connect_args": connect_args}


def pool_pre_ping() -> str:
    """``DB_POOL_PRE_PING``: how a pooled PostgreSQL connection is tested as it leaves the
    pool, so that a database restart (or a killed backend, an idle timeout) costs no
    request an error.

    ``socket`` (the default): no round trip; an idle connection whose socket is closed or
    has bytes waiting was ended by the server (charity.core.db.check_pooled_sockets) and is
    replaced. ``1`` (or ``query``): SQLAlchemy's pre-ping, one round trip per checkout (also
    catches a server that vanished without closing the connection, which the socket test
    cannot see). ``0``: no test (the first use of a dead connection fails once)."""
    value = (os.environ.get("DB_POOL_PRE_PING") or "socket").strip().lower()
    if value in ("1", "true", "yes", "on", "query"):
        return "query"
    if value in ("0", "false", "no", "off"):
        return "off"
    if value == "socket":
        return "socket"
    raise ConfigError(f"DB_POOL_PRE_PING={value!r}: use socket, 1 (query) or 0")


class Config:
    ENV_NAME = "base"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    DB_POOL_PRE_PING = pool_pre_ping()
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = transaction_pooling(
        {"pool_pre_ping": DB_POOL_PRE_PING == "query"}
    )
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
    #: Failed logins of one account from one address that cost nothing, in
    #: LOGIN_THROTTLE_WINDOW seconds; each further one doubles the wait before the next try
    #: from that address, LOGIN_THROTTLE_DELAY up to LOGIN_THROTTLE_MAX_DELAY seconds. No
    #: account is ever locked for everyone (issue 15 finding 8).
    LOGIN_THROTTLE_ATTEMPTS = _int("LOGIN_THROTTLE_ATTEMPTS", 5)
    LOGIN_THROTTLE_WINDOW = _int("LOGIN_THROTTLE_WINDOW", 900)
    LOGIN_THROTTLE_DELAY = _int("LOGIN_THROTTLE_DELAY", 30)
    LOGIN_THROTTLE_MAX_DELAY = _int("LOGIN_THROTTLE_MAX_DELAY", 900)
    #: Failed logins allowed per IP address in the window, across accounts (many people
    #: share an address behind a carrier-grade NAT).
    LOGIN_THROTTLE_IP_ATTEMPTS = _int("LOGIN_THROTTLE_IP_ATTEMPTS", 50)
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
    #: The public complaint form (issue 16 point 15): per client address.
    RATELIMIT_COMPLAINT = os.environ.get("RATELIMIT_COMPLAINT", "5 per hour;20 per day")
    #: Visitors reporting donor messages (issue 17 point 9): generous per address (NAT).
    RATELIMIT_MESSAGE_REPORT = os.environ.get("RATELIMIT_MESSAGE_REPORT", "60 per hour")
    #: Creating a donation (card-testing protection). A declined card is retried on the
    #: same donation and does not count, nor does a refused form; honest donors give a few
    #: times at most. Per address generous (thousands of donors share one carrier-grade NAT
    #: address in China), per email strict.
    RATELIMIT_DONATION_IP = os.environ.get("RATELIMIT_DONATION_IP", "120 per hour;1000 per day")
    RATELIMIT_DONATION_EMAIL = os.environ.get("RATELIMIT_DONATION_EMAIL", "5 per hour;20 per day")
    #: Card attempts (declines included) on donations already created: per address
    #: (generous), per donation or monthly gift, and per card (its fingerprint): strict.
    RATELIMIT_PAYMENT_ATTEMPT = os.environ.get(
        "RATELIMIT_PAYMENT_ATTEMPT", "60 per minute;600 per hour"
    )
    RATELIMIT_PAYMENT_DONATION = os.environ.get(
        "RATELIMIT_PAYMENT_DONATION", "5 per 10 minutes;10 per day"
    )
    RATELIMIT_PAYMENT_CARD = os.environ.get("RATELIMIT_PAYMENT_CARD", "5 per hour;10 per day")
    #: How often the result page of a pending gift may ask the payment provider whether it
    #: was paid, per donation (reloads in between show what is recorded).
    RATELIMIT_PAYMENT_LOOKUP = os.environ.get("RATELIMIT_PAYMENT_LOOKUP", "1 per 5 seconds")
    #: Mail sent to an address someone typed (gift claims, invitations): per sender and
    #: per recipient address.
    RATELIMIT_MAIL_SENDER = os.environ.get("RATELIMIT_MAIL_SENDER", "20 per hour;50 per day")
    RATELIMIT_MAIL_RECIPIENT = os.environ.get("RATELIMIT_MAIL_RECIPIENT", "3 per hour;10 per day")
    #: The public JSON API, per IP.
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "300 per minute")
    #: Wrong two-factor codes (login's second step, re-authentication) per account.
    RATELIMIT_SECOND_FACTOR = os.environ.get("RATELIMIT_SECOND_FACTOR", "5 per minute;30 per hour")
    #: Every HTML page (and form post), per client address: generous, a carrier-grade NAT
    #: puts thousands of people on one address. /healthz, /metrics, the payment
    #: providers' notifications, static files and pictures are never counted.
    RATELIMIT_PAGE = os.environ.get("RATELIMIT_PAGE", "600 per minute;10000 per hour")
    #: The public audit-log API (/api/v1/log), per client address.
    RATELIMIT_LOG = os.environ.get("RATELIMIT_LOG", "600 per minute;10000 per hour")
    #: Client addresses the page and log limits never count (comma-separated): bench
    #: scripts and drills run on the host. Behind the proxy the address is the client's
    #: as the trusted proxies saw it (TRUSTED_PROXIES), so it cannot be claimed.
    RATELIMIT_EXEMPT_ADDRESSES = os.environ.get("RATELIMIT_EXEMPT_ADDRESSES", "127.0.0.1,::1")
    #: Redis for shared rate limits and the RQ job queue. Empty: jobs run in-process.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    #: The RQ queue jobs go to (workers listen on it), and a job's time limit in seconds.
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "charity")
    JOBS_TIMEOUT = _int("JOBS_TIMEOUT", 300)
    #: Logs: "json" (one object per line) or "text"; LOG_REQUESTS adds one line per request.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "0") == "1"
    #: /metrics: a bearer token; when empty only direct loopback requests may scrape.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    #: Gauges read from the database/Redis at scrape time are reused for this long.
    METRICS_CACHE_SECONDS = _int("METRICS_CACHE_SECONDS", 10)
    #: Where charity_auditlog_entries is read: the head row's ``size`` (one row, id 1), else
    #: a count of the entries (or a source the audit log registers in charity.ops.metrics).
    AUDITLOG_HEAD_TABLE = os.environ.get("AUDITLOG_HEAD_TABLE", "auditlog_head")
    AUDITLOG_TABLE = os.environ.get("AUDITLOG_TABLE", "auditlog_entries")
    #: The site's public address: every absolute link (mail, feeds, receipts, the
    #: providers' return addresses) is built from it, never from the request's Host
    #: header. https and required in production; empty elsewhere: http://localhost/.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    #: Host names the site answers to, comma-separated (others: 400). Production defaults
    #: to PUBLIC_BASE_URL's host name; empty elsewhere: any host.
    TRUSTED_HOSTS = os.environ.get("TRUSTED_HOSTS", "")
    #: How many reverse proxies in front append to X-Forwarded-For/-Proto (werkzeug's
    #: ProxyFix). 0: clients connect directly. Required in production, where the client
    #: address keys the per-IP rate limits and the login delays.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    #: Seconds the health checks may take each before they count as failed.
    HEALTH_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_TIMEOUT_SECONDS", "2"))
    #: Stripe: the platform's secret key; donations are direct charges on each
    #: organization's connected account.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # set for localstripe only
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
    #: WeChat Pay and Alipay. Each organization's merchant credentials are stored sealed
    #: with PAYMENT_SECRETS_KEY (Fernet keys, comma-separated: the first seals, all open;
    #: charity/payments/vault.py). The gateways are the providers' own unless these point
    #: them at the local simulators (development and tests; production refuses both).
    PAYMENT_SECRETS_KEY = os.environ.get("PAYMENT_SECRETS_KEY", "")
    WECHATPAY_API_BASE = os.environ.get("WECHATPAY_API_BASE", "")
    ALIPAY_GATEWAY = os.environ.get("ALIPAY_GATEWAY", "")
    #: Minutes an unpaid WeChat Pay or Alipay order stays open (then it is closed at the
    #: provider and the donor can start again on the same donation).
    PAYMENT_ORDER_MINUTES = _int("PAYMENT_ORDER_MINUTES", 15)
    #: Hours a parked provider event may wait for its precondition before
    #: `flask ledger check` reports it.
    PARKED_EVENT_GRACE_HOURS = _int("PARKED_EVENT_GRACE_HOURS", 1)
    #: Days back (up to yesterday, CST) `flask ledger check` looks for days with online
    #: money that `flask payments reconcile` has not reconciled.
    RECONCILE_LOOKBACK_DAYS = _int("RECONCILE_LOOKBACK_DAYS", 30)
    #: Four eyes for money (issue 15): refunds of a gift adding up to more than this many
    #: fen (default ¥5,000) are requested by one owner or finance member and made only
    #: when a different person approves them; offline and in-kind gifts recorded above
    #: OFFLINE_FOUR_EYES_FEN are counted, numbered and logged only when a second person
    #: confirms them (default ¥50,000: more than the largest single online gift).
    REFUND_FOUR_EYES_FEN = _int("REFUND_FOUR_EYES_FEN", 500_000)
    OFFLINE_FOUR_EYES_FEN = _int("OFFLINE_FOUR_EYES_FEN", 5_000_000)
    #: Largest single online gift, in fen (default ¥50,000).
    DONATION_MAX_FEN = _int("DONATION_MAX_FEN", 5_000_000)
    #: Largest amount of one recorded major transaction, in fen (default ¥10 billion):
    #: beyond it the figure is a typing mistake, refused with a message.
    MAJOR_TRANSACTION_MAX_FEN = _int("MAJOR_TRANSACTION_MAX_FEN", 1_000_000_000_000)
    #: An organization with an obligation overdue for longer than this many days files no
    #: new campaign until it catches up (issue 16 point 15; 广益联募 stops projects after
    #: 180 days without an update). 0 turns the rule off.
    OVERDUE_FILING_BLOCK_DAYS = _int("OVERDUE_FILING_BLOCK_DAYS", 180)
    #: Four eyes by two different people (issue 15 finding 6): the second person of an
    #: outflow (disbursement, fund-to-host transfer, large refund or offline gift, payout
    #: account change) has held their role for at least this many days, besides a
    #: confirmed e-mail address and two-factor authentication (charity/services/four_eyes.py).
    FOUR_EYES_MIN_MEMBERSHIP_DAYS = _int("FOUR_EYES_MIN_MEMBERSHIP_DAYS", 7)
    #: Sensitive actions (payout and merchant credentials, approving an outflow, turning
    #: two-factor off, changing the password) need the person to have proved who they are
    #: (a TOTP code, or the password without two-factor) this many seconds ago at most
    #: (issue 15; charity.blueprints.two_factor.require_reauth).
    REAUTH_MAX_AGE_SECONDS = _int("REAUTH_MAX_AGE_SECONDS", 600)
    #: A new receiving account (Stripe, WeChat Pay, Alipay) takes effect this many hours
    #: after an owner asks, unless a second person approves it sooner or someone cancels
    #: it (issue 15 finding 12; `flask payments apply-payout-changes` applies due ones).
    PAYOUT_CHANGE_DELAY_HOURS = _int("PAYOUT_CHANGE_DELAY_HOURS", 48)
    #: Audit log: the origin line of checkpoints and the signing key. AUDITLOG_SIGNING_KEY
    #: is standard base64 of a 32-byte Ed25519 seed (named AUDITLOG_KEY_NAME) or a
    #: "PRIVATE+KEY+name+keyid+key" signer string (`flask audit new-key` prints one).
    AUDITLOG_ORIGIN = os.environ.get("AUDITLOG_ORIGIN", DEFAULT_LOG)
    AUDITLOG_KEY_NAME = os.environ.get("AUDITLOG_KEY_NAME", DEFAULT_LOG)
    AUDITLOG_SIGNING_KEY = os.environ.get("AUDITLOG_SIGNING_KEY", "")
    #: How entries reach the tree (charity/auditlog/store.py): "inline" appends in the
    #: change's transaction under the log head lock; "batched" queues the entry in that
    #: transaction and `flask audit sequencer` (one process) appends queued entries in
    #: batches. Production and the bench default to batched; `make prod` starts the sequencer.
    AUDITLOG_SEQUENCER = os.environ.get("AUDITLOG_SEQUENCER", "inline")
    #: The log as static C2SP tlog-tiles (docs/audit-log.md): a directory, or
    #: s3://bucket/prefix (boto3; AUDITLOG_TILES_S3_ENDPOINT for a non-AWS S3-compatible
    #: store, credentials from the usual AWS_* variables). The sequencer writes the
    #: checkpoint, tiles and entry bundles there after each batch. Empty: no tiles.
    AUDITLOG_TILES = os.environ.get("AUDITLOG_TILES", "")
    AUDITLOG_TILES_S3_ENDPOINT = os.environ.get("AUDITLOG_TILES_S3_ENDPOINT", "")
    #: Witnesses (C2SP tlog-witness) asked to cosign each new checkpoint: comma- or
    #: newline-separated "<witness verifier key> <submission URL>" pairs. The checkpoint
    #: served (API and tiles) is the newest one with AUDITLOG_WITNESS_QUORUM cosignatures
    #: (default: all configured witnesses), carrying them.
    AUDITLOG_WITNESSES = os.environ.get("AUDITLOG_WITNESSES", "")
    AUDITLOG_WITNESS_QUORUM = os.environ.get("AUDITLOG_WITNESS_QUORUM", "")
    AUDITLOG_WITNESS_TIMEOUT = _float("AUDITLOG_WITNESS_TIMEOUT", 5.0)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    #: Read replicas (docs/scaling.md): PostgreSQL streaming replicas, comma-separated URLs,
    #: for public read-only pages and the read API (charity/web/replicas.py). A replica
    #: whose replay lag exceeds DATABASE_REPLICA_MAX_LAG_SECONDS, or that does not answer,
    #: leaves the pool until a check (every DATABASE_REPLICA_CHECK_SECONDS) sees it well;
    #: a browser that wrote reads from the primary for DATABASE_REPLICA_STICKY_SECONDS.
    DATABASE_REPLICA_URLS = os.environ.get("DATABASE_REPLICA_URLS", "")
    DATABASE_REPLICA_MAX_LAG_SECONDS = _float("DATABASE_REPLICA_MAX_LAG_SECONDS", 3.0)
    DATABASE_REPLICA_CHECK_SECONDS = _float("DATABASE_REPLICA_CHECK_SECONDS", 1.0)
    DATABASE_REPLICA_STICKY_SECONDS = _float("DATABASE_REPLICA_STICKY_SECONDS", 10.0)
    DATABASE_REPLICA_ENGINE_OPTIONS: ClassVar[dict] = transaction_pooling(
        {"pool_pre_ping": True, "connect_args": {"connect_timeout": 1}}
    )


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
        self.PAYMENT_SECRETS_KEY = self.PAYMENT_SECRETS_KEY or _instance_fernet_key(
            "payment_secrets_key"
        )
        wechat_port = os.environ.get("WECHATPAY_SIM_PORT", "8430")
        alipay_port = os.environ.get("ALIPAY_SIM_PORT", "8440")
        self.WECHATPAY_API_BASE = self.WECHATPAY_API_BASE or f"http://127.0.0.1:{wechat_port}"
        self.ALIPAY_GATEWAY = self.ALIPAY_GATEWAY or f"http://127.0.0.1:{alipay_port}/gateway.do"
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
    PAYMENT_SECRETS_KEY = TESTING_PAYMENT_SECRETS_KEY
    AUDITLOG_ORIGIN = "charity.test/log"
    AUDITLOG_KEY_NAME = "charity.test/log"
    REDIS_URL = ""  # jobs run in-process; tests that need Redis pass REDIS_URL explicitly
    LOG_FORMAT = "text"
    LOG_REQUESTS = False
    METRICS_TOKEN = ""

    def __init__(self, db_url: str | None = None, **overrides: object) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url(
            db_url or os.environ.get("TEST_DATABASE_URL", "sqlite://")
        )
        for key, value in overrides.items():
            setattr(self, key, value)


#: Config keys whose values never appear in logs (charity.ops.logs masks them).
SECRET_CONFIG_KEYS = (
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SMTP_PASSWORD",
    "AUDITLOG_SIGNING_KEY",
    "METRICS_TOKEN",
    "PAYMENT_SECRETS_KEY",
)


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "1") == "1"
    AUDITLOG_SEQUENCER = os.environ.get("AUDITLOG_SEQUENCER", "batched")
    #: No address is exempt from the page and log limits unless named: behind a proxy on
    #: the same host with TRUSTED_PROXIES=0 every client would look like 127.0.0.1.
    RATELIMIT_EXEMPT_ADDRESSES = os.environ.get("RATELIMIT_EXEMPT_ADDRESSES", "")
    REQUIRED = (
        "SECRET_KEY",
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "AUDITLOG_SIGNING_KEY",
        "PAYMENT_SECRETS_KEY",
        "PUBLIC_BASE_URL",
        "TRUSTED_PROXIES",
        "METRICS_TOKEN",
    )

    def __init__(self) -> None:
        problems = [
            f"missing environment variable {name}"
            for name in self.REQUIRED
            if not os.environ.get(name)
        ]
        problems += unsafe_production_settings(os.environ)
        if problems:
            raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
        # Read now, not at import: what was checked above is exactly what is used.
        for name in (*self.REQUIRED, "METRICS_TOKEN", "SMTP_HOST"):
            setattr(self, name, os.environ.get(name, ""))
        self.TRUSTED_PROXIES = int(os.environ["TRUSTED_PROXIES"])
        self.TRUSTED_HOSTS = os.environ.get("TRUSTED_HOSTS", "") or (
            urlsplit(self.PUBLIC_BASE_URL).hostname or ""
        )
        self.MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"])
        self.SQLALCHEMY_ENGINE_OPTIONS = postgres_engine_options()
        self.DATABASE_REPLICA_ENGINE_OPTIONS = replica_engine_options()
        self.DB_POOL_PRE_PING = pool_pre_ping()
        self.REDIS_URL = os.environ["REDIS_URL"]
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL


def postgres_engine_options() -> dict:
    """Pool sized for gunicorn threads; short connect timeout so /healthz answers fast.

    DB_POOL_PRE_PING (``pool_pre_ping``) says how each connection is tested as it leaves
    the pool (by its socket unless set otherwise), so a database restart costs no request
    an error; off, the first use of each dead connection fails once and the pool is
    refreshed (docs/deployment.md)."""
    return transaction_pooling(
        {
            "pool_pre_ping": pool_pre_ping() == "query",
            "pool_size": _int("DB_POOL_SIZE", 10),
            "max_overflow": _int("DB_MAX_OVERFLOW", 5),
            "pool_timeout": _int("DB_POOL_TIMEOUT", 10),
            "connect_args": {"connect_timeout": _int("DB_CONNECT_TIMEOUT", 3)},
        }
    )


def replica_engine_options() -> dict:
    """Like the primary's pool, with a 1 s connect timeout (DB_REPLICA_CONNECT_TIMEOUT): a
    replica that does not answer leaves the pool rather than delaying a page."""
    options = postgres_engine_options()
    connect_args = {
        **options["connect_args"],
        "connect_timeout": _int("DB_REPLICA_CONNECT_TIMEOUT", 1),
    }
    return {**options, "connect_args": connect_args}


def unsafe_production_settings(env: Mapping[str, str]) -> list[str]:
    """Each unsafe setting in ``env``, described with the variable that causes it."""
    problems = []
    if _on(env.get("FLASK_DEBUG")):
        problems.append("FLASK_DEBUG is on (the debugger runs code sent by anyone)")
    if 0 < len(env.get("SECRET_KEY", "")) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters")
    if database_url(env.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append("DATABASE_URL is SQLite; production needs PostgreSQL")
    if env.get("MAIL_BACKEND", "smtp") == "smtp" and not env.get("SMTP_HOST"):
        problems.append("SMTP_HOST is not set (production sends mail by SMTP)")
    if not env.get("REDIS_URL"):
        problems.append("REDIS_URL is missing (shared rate limits and the job queue need Redis)")
    base = env.get("PUBLIC_BASE_URL", "")
    if base and not (base.startswith("https://") and urlsplit(base).hostname):
        problems.append("PUBLIC_BASE_URL must start with https:// and name a host")
    proxies = env.get("TRUSTED_PROXIES", "")
    if proxies and not (proxies.isdigit() and int(proxies) <= 5):
        problems.append("TRUSTED_PROXIES must be the number of proxies in front (0 to 5)")
    if env.get("AUDITLOG_SIGNING_KEY"):
        from charity.auditlog.checkpoint import SigningKeyError, load_signer

        try:  # a bad key would stop the log sequencer and fail every checkpoint request
            load_signer(env["AUDITLOG_SIGNING_KEY"], env.get("AUDITLOG_KEY_NAME", DEFAULT_LOG))
        except SigningKeyError as error:
            problems.append(str(error))
    if env.get("AUDITLOG_SEQUENCER", "batched") not in ("inline", "batched"):
        problems.append("AUDITLOG_SEQUENCER must be inline or batched")
    if env.get("STRIPE_API_BASE"):
        problems.append("STRIPE_API_BASE is set (it points Stripe calls away from Stripe)")
    for name in ("WECHATPAY_API_BASE", "ALIPAY_GATEWAY"):
        if env.get(name):
            problems.append(f"{name} is set (it points payments away from the provider)")
    if env.get("PAYMENT_SECRETS_KEY"):
        from charity.payments.vault import valid_key

        if problem := valid_key(env["PAYMENT_SECRETS_KEY"]):
            problems.append(problem)
    if not _on(env.get("ALLOW_TEST_STRIPE_KEYS")):
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"):
            if env.get(name, "").startswith(("sk_test_", "rk_test_", "pk_test_")):
                problems.append(
                    f"{name} is a Stripe test key (set ALLOW_TEST_STRIPE_KEYS=1 for a staging site)"
                )
    return problems


class BenchConfig(Config):
    """Production-like settings for `make bench` on loopback: never use it to serve users.

    JSON logs, no debug, PostgreSQL from DATABASE_URL, but plain HTTP, generated secrets
    and localstripe keys, because the benchmark runs on 127.0.0.1 with no real money.
    """

    ENV_NAME = "bench"
    DEBUG = False
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "1") == "1"
    RATELIMIT_ENABLED = False
    AUDITLOG_SEQUENCER = os.environ.get("AUDITLOG_SEQUENCER", "batched")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_localstripe")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")

    def __init__(self) -> None:
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("CHARITY_ENV=bench needs DATABASE_URL")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(32)
        self.STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_bench"
        self.PAYMENT_SECRETS_KEY = os.environ.get("PAYMENT_SECRETS_KEY") or (
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        )
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ["DATABASE_URL"])
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            self.SQLALCHEMY_ENGINE_OPTIONS = postgres_engine_options()
            self.DATABASE_REPLICA_ENGINE_OPTIONS = replica_engine_options()
            self.DB_POOL_PRE_PING = pool_pre_ping()


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
    "bench": BenchConfig,
}


def load_config(name: str | None = None) -> Config:
    name = name or os.environ.get("CHARITY_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(f"Unknown CHARITY_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
