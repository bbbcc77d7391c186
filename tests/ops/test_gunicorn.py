"""gunicorn.conf.py for real: workers add up their metrics; logs are JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.ops import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


@pytest.fixture
def gunicorn_server(database_url, tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "METRICS_TOKEN", "LOG_FORMAT", "GUNICORN_ACCESS_LOG")
    }
    env.update(
        CHARITY_ENV="bench",
        DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        CHARITY_INSTANCE=str(tmp_path / "instance"),
    )
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as err:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=err,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base, stderr
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown; graceful is not under test
        server.wait(timeout=30)


def _get(url: str):  # type: ignore[no-untyped-def]
    return urllib.request.urlopen(url, timeout=5)  # noqa: S310 - our own server on loopback


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            _get(base + "/healthz").close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start within 60 s")


def _records(stderr: Path) -> list[dict]:
    return [json.loads(text) for text in stderr.read_text().splitlines() if text.strip()]


def _healthz_served(stderr: Path) -> list[dict]:
    return [
        r for r in _records(stderr) if r["logger"] == "charity.request" and r["path"] == "/healthz"
    ]


def test_metrics_add_up_across_workers_and_logs_are_json(gunicorn_server):
    base, stderr = gunicorn_server
    # New connections until both workers have served some (the kernel spreads them).
    for _ in range(20):
        for _ in range(10):
            with _get(base + "/healthz") as response:
                assert response.status == 200
        time.sleep(0.1)
        if len({r["pid"] for r in _healthz_served(stderr)}) == 2:
            break
    served = _healthz_served(stderr)
    assert len({r["pid"] for r in served}) == 2
    with _get(base + "/metrics") as response:
        body = response.read().decode()
    [line] = [
        line
        for line in body.splitlines()
        if line.startswith('charity_http_requests_total{endpoint="ops.healthz"')
    ]
    # Both workers served, yet one scrape (answered by one of them) counts every request.
    assert float(line.rsplit(" ", 1)[1]) == len(served)
    assert {"gunicorn.error", "charity.request"} <= {r["logger"] for r in _records(stderr)}
    assert all(len(r["request_id"]) == 32 for r in served)
