"""scripts/prod.sh: the one production command starts web, worker and the log sequencer and
stops them together."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support.ops import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "prod.sh"


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "FLASK_DEBUG"))}
    env.update(
        CHARITY_ENV="production",
        SECRET_KEY="p" * 48,
        STRIPE_SECRET_KEY="sk_test_" + "a" * 24,
        STRIPE_PUBLISHABLE_KEY="pk_test_" + "a" * 24,
        STRIPE_WEBHOOK_SECRET="whsec_" + "a" * 24,
        AUDITLOG_SIGNING_KEY=base64.b64encode(b"k" * 32).decode(),
        PAYMENT_SECRETS_KEY=base64.urlsafe_b64encode(b"e" * 32).decode(),
        PUBLIC_BASE_URL="https://charity.example",
        TRUSTED_PROXIES="1",
        METRICS_TOKEN="m" * 32,
        SMTP_HOST="smtp.charity.example",
        VENV=str(Path(sys.executable).parent.parent),
        **extra,
    )
    return env


def test_refuses_unsafe_settings_before_starting_anything():
    env = _production_env(DATABASE_URL="sqlite:////tmp/x.sqlite3")
    env.pop("REDIS_URL", None)
    completed = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert "DATABASE_URL is SQLite" in completed.stderr
    assert "REDIS_URL is missing" in completed.stderr
    assert "STRIPE_SECRET_KEY is a Stripe test key" in completed.stderr


@pytest.mark.slow
def test_starts_web_worker_and_sequencer_and_stops_them(
    postgres_only, database_url, redis_url, tmp_path
):
    port = free_port()
    env = _production_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ALLOW_TEST_STRIPE_KEYS="1",
        JOBS_QUEUE=f"charity-test-{uuid.uuid4().hex}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        CHARITY_INSTANCE=str(tmp_path / "instance"),
    )
    log = (tmp_path / "prod.log").open("w")
    process = subprocess.Popen(
        [str(SCRIPT)], env=env, stdout=log, stderr=log, start_new_session=True
    )
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        assert health == {
            "status": "ok",
            "checks": {
                "database": {"status": "ok", "ms": health["checks"]["database"]["ms"]},
                "redis": {"status": "ok", "ms": health["checks"]["redis"]["ms"]},
            },
        }
        _wait_for_log(tmp_path / "prod.log", "Listening on " + env["JOBS_QUEUE"])
        # AUDITLOG_SEQUENCER defaults to batched in production: the log sequencer runs too.
        sequencer = subprocess.run(
            ["pgrep", "-s", str(process.pid), "-f", "audit sequencer"], capture_output=True
        )
        assert sequencer.returncode == 0, "no `flask audit sequencer` in prod.sh's session"
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
        log.close()
    assert status == 143
    with pytest.raises(ProcessLookupError):  # gunicorn, the worker and the sequencer too
        os.killpg(process.pid, 0)


#: Start-up (migrations, preloading the app, the worker and the sequencer) takes seconds on a
#: quiet machine; a loaded CI machine gets room before the test calls it a failure.
STARTUP_SECONDS = 180


def _wait_for_health(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "prod.sh exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from /healthz within {STARTUP_SECONDS} s")


def _wait_for_log(path: Path, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{text!r} not logged within 30 s"
        time.sleep(0.2)
