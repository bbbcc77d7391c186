"""gunicorn.conf.py for real: workers add up their metrics; logs are JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.ops.conftest import free_port

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
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            _get(base + "/healthz").close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start within 20 s")


def test_metrics_add_up_across_workers_and_logs_are_json(gunicorn_server):
    base, stderr = gunicorn_server
    for _ in range(30):  # a new connection each: the kernel spreads them over workers
        with _get(base + "/healthz") as response:
            assert response.status == 200
    with _get(base + "/metrics") as response:
        body = response.read().decode()
    [line] = [
        line
        for line in body.splitlines()
        if line.startswith('charity_http_requests_total{endpoint="ops.healthz"')
    ]
    # 30 plus the start-up probe(s): every worker's count is in one scrape.
    assert float(line.rsplit(" ", 1)[1]) >= 31
    time.sleep(0.2)
    records = [json.loads(text) for text in stderr.read_text().splitlines() if text.strip()]
    loggers = {record["logger"] for record in records}
    assert {"gunicorn.error", "charity.request"} <= loggers
    served = [r for r in records if r["logger"] == "charity.request" and r["path"] == "/healthz"]
    assert len(served) >= 31
    # Served by both workers, yet the one scrape above counted them all.
    assert len(Counter(r["pid"] for r in served)) == 2
    assert all(len(r["request_id"]) == 32 for r in served)
