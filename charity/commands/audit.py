"""``flask audit ...``: verify the public log, sign checkpoints, make keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.auditlog import checkpoint, integrity, store
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
    db.session.rollback()
    if problems:
        raise click.ClickException(f"{problems} problem(s) found in the audit log")
    size, _root = store.current_head(db.session)
    click.echo(f"OK: the audit log verifies ({size} entries)")


@audit.command("checkpoint")
@with_appcontext
def sign_checkpoint() -> None:
    """Sign (and save) a checkpoint of the current log head and print it."""
    signer = checkpoint.signer_for(current_app)
    _size, _root, note = checkpoint.current_checkpoint(
        db.session, signer, current_app.config["AUDITLOG_ORIGIN"]
    )
    db.session.commit()
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
