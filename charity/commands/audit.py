"""``flask audit ...``: verify the public log, sign checkpoints, make keys."""

from __future__ import annotations

import signal
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from charity.auditlog import checkpoint, integrity, publish, store
from charity.core import uow
from charity.extensions import db


@click.group()
def audit() -> None:
    """The public audit log."""


@audit.command("verify")
@with_appcontext
def verify() -> None:
    """Recompute every leaf, the tree and each entry from its domain row; exit 1 on a mismatch."""
    signer = checkpoint.signer_for(current_app)
    problems = 0
    for problem in integrity.check_log(db.session, signer, current_app.config["AUDITLOG_ORIGIN"]):
        problems += 1
        click.echo(f"MISMATCH {problem}", err=True)
    uow.rollback()
    if problems:
        raise click.ClickException(f"{problems} problem(s) found in the audit log")
    size, _root = store.current_head(db.session)
    waiting = store.pending_count(db.session)
    uow.rollback()
    queued = f"; {waiting} queued for the sequencer" if waiting else ""
    click.echo(f"OK: the audit log verifies ({size} entries{queued})")


@audit.command("sequencer")
@click.option("--once", is_flag=True, help="Sequence what is queued now, then exit.")
@click.option("--batch", default=2000, show_default=True, help="Entries per transaction.")
@click.option("--idle", default=0.05, show_default=True, help="Seconds to wait when idle.")
@click.option(
    "--every",
    default=0.25,
    show_default=True,
    help="At least this many seconds between batches (each batch signs one checkpoint).",
)
@with_appcontext
def sequencer(once: bool, batch: int, idle: float, every: float) -> None:
    """The single log sequencer (AUDITLOG_SEQUENCER=batched): append queued entries to
    the tree in batches and sign the new head's checkpoint, one head lock and one commit
    per batch. Several may run (they take turns on the head lock); one is enough. Stops
    cleanly on SIGTERM/SIGINT."""
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    signer = checkpoint.signer_for(current_app)
    origin = current_app.config["AUDITLOG_ORIGIN"]
    publishing = bool(publish.witnesses(current_app) or publish.storage_for(current_app))
    total, published_at = 0, 0.0
    while not stopping:
        started = time.monotonic()
        try:
            appended = checkpoint.sequence_batch(db.session, signer, origin, batch)
            uow.commit()
        except OperationalError as error:  # the database restarting: wait and go on
            uow.rollback()
            current_app.logger.warning("log sequencer: %s", error.orig)
            time.sleep(1.0)
            continue
        total += len(appended)
        # Witnesses and tiles after each batch, and once a second when idle (retries).
        if publishing and (appended or started - published_at >= 1.0):
            published_at = started
            _publish_safely()
        if once and len(appended) < batch:
            break
        if not appended:
            time.sleep(idle)
        elif len(appended) < batch:  # caught up: let the next batch gather a little
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    click.echo(f"sequenced {total} entries")


def _publish_safely() -> None:
    """Witnesses and tiles may be unreachable: that delays them, never the sequencer."""
    try:
        summary = publish.publish(db.session, current_app)
    except Exception:  # network, storage, a witness's bad answer: logged, retried later
        uow.rollback()
        current_app.logger.exception("log publisher: witnesses or tiles failed; will retry")
    else:
        if summary["cosignatures"] or summary["tiles"]:
            current_app.logger.info("log published: %s", summary)


@audit.command("publish")
@with_appcontext
def publish_log() -> None:
    """Sign the head's checkpoint if needed, ask the witnesses (AUDITLOG_WITNESSES) to
    cosign every checkpoint they have not, and write the tiles (AUDITLOG_TILES)."""
    signer = checkpoint.signer_for(current_app)
    checkpoint.current_checkpoint(db.session, signer, current_app.config["AUDITLOG_ORIGIN"])
    uow.commit()
    summary = publish.publish(db.session, current_app)
    click.echo(
        f"cosignatures: {summary['cosignatures']}, files written: {summary['tiles']}, "
        f"published size: {summary['size']}"
    )


@audit.command("checkpoint")
@with_appcontext
def sign_checkpoint() -> None:
    """Sign (and save) a checkpoint of the current log head and print it."""
    signer = checkpoint.signer_for(current_app)
    _size, _root, note = checkpoint.current_checkpoint(
        db.session, signer, current_app.config["AUDITLOG_ORIGIN"]
    )
    uow.commit()
    click.echo(note, nl=False)


@audit.command("key")
@with_appcontext
def verifier_key() -> None:
    """Print the verifier key to publish."""
    click.echo(checkpoint.signer_for(current_app).verifier_key())


@audit.command("new-key")
@click.option("--name", required=True, help="The key name, e.g. charity.example/log.")
def new_key(name: str) -> None:
    """Print a new signer key for AUDITLOG_SIGNING_KEY (keep it secret)."""
    try:
        click.echo(checkpoint.new_signer_key(name))
    except checkpoint.SigningKeyError as error:
        raise click.ClickException(str(error)) from None
