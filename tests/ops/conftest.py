"""Fixtures for the ops tests: extra apps with their own settings, a real local Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from charity import create_app
from config import TestingConfig
from tests.support.ops import DEFAULT_REDIS


@pytest.fixture
def make_app(app: Flask, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build another app on the test database with some settings changed."""
    made: list[Flask] = []

    def build(db_url: str | None = None, **overrides: object) -> Flask:
        application = create_app(TestingConfig(db_url or database_url, **overrides))
        application.instance_path = app.instance_path
        made.append(application)
        return application

    yield build
    from charity.extensions import db
    from charity.ops.logs import configure_logging

    for application in made:
        with application.app_context():
            db.engine.dispose()
    configure_logging(app)  # the session app's handler back on the charity logger


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis; skipped when it is down, a failure under CI."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI but unreachable at {url}: {error}")
        pytest.skip(f"Redis is not running at {url} ({error}); start it to run the RQ tests")
    return url


@pytest.fixture
def rq_app(make_app, redis_url: str) -> Iterator[Flask]:
    """An app whose jobs go through RQ, on a queue no other test run uses."""
    queue_name = f"charity-test-{uuid.uuid4().hex}"
    application = make_app(REDIS_URL=redis_url, JOBS_QUEUE=queue_name)
    yield application
    from rq import Queue

    from charity.ops.jobs import redis_connection

    connection = redis_connection(application)
    queue = Queue(queue_name, connection=connection)
    for registry in (
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.scheduled_job_registry,
    ):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    queue.delete(delete_jobs=True)
    connection.close()
