"""``flask ledger check``: prove the books balance and match donations, refunds and the log."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.extensions import db
from charity.models import utcnow
from charity.services.allocation import check_allocations
from charity.services.disbursements import check_disbursements
from charity.services.ledger import check_books
from charity.services.parking import check_parked
from charity.services.reconciliation import check_reconciled


@click.group()
def ledger() -> None:
    """The double-entry ledger."""


@ledger.command("check")
@with_appcontext
def check() -> None:
    """Exit non-zero, naming each mismatch, unless every check passes."""
    problems, notes = check_books(db.session)
    # parked provider events and days not reconciled with the providers
    config = current_app.config
    parked_problems, parked_notes = check_parked(
        db.session, utcnow(), config["PARKED_EVENT_GRACE_HOURS"]
    )
    unreconciled, _none = check_reconciled(db.session, utcnow(), config["RECONCILE_LOOKBACK_DAYS"])
    problems += parked_problems + unreconciled
    notes += parked_notes
    problems += check_allocations(db.session)  # FIFO allocation rebuilt from the ledger
    problems += check_disbursements(db.session)  # executed disbursements posted once
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("ledger check: OK (every transaction balances; donations, refunds and ledger agree)")
