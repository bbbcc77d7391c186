"""``flask jobs worker``: run background jobs from the Redis queue (RQ)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.ops import jobs as job_queue
from charity.ops.logs import build_handler, secret_values


@click.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option(
    "--simple",
    is_flag=True,
    help="Run jobs in this process instead of a forked child per job (no job timeouts).",
)
@click.option("--queue", "queues", multiple=True, help="Queue(s) to listen on.")
@with_appcontext
def worker(burst: bool, simple: bool, queues: tuple[str, ...]) -> None:
    """Run jobs until stopped (SIGTERM finishes the current job first)."""
    from rq import SimpleWorker, Worker  # rq (about 20 MB) only in the worker process

    connection = job_queue.redis_connection()
    if connection is None:
        raise click.ClickException(
            "REDIS_URL is not set: jobs run in-process and no worker is needed."
        )
    rq_logger = logging.getLogger("rq")
    for old in [h for h in rq_logger.handlers if hasattr(h, "_charity_handler")]:
        rq_logger.removeHandler(old)
    rq_logger.addHandler(
        build_handler(current_app.config["LOG_FORMAT"], secret_values(current_app.config))
    )
    rq_logger.setLevel(current_app.config.get("LOG_LEVEL", "INFO"))
    rq_logger.propagate = False
    names = list(queues) or [current_app.config["JOBS_QUEUE"]]
    worker_class = SimpleWorker if simple else Worker
    runner = worker_class(names, connection=connection)
    # The scheduler moves retries whose interval has passed back onto the queue.
    runner.work(burst=burst, with_scheduler=True, logging_level=None)
