"""``flask ledger check``: prove the books balance and match donations, refunds and the log."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from charity.extensions import db
from charity.services.allocation import check_allocations
from charity.services.disbursements import check_disbursements
from charity.services.ledger import check_books


@click.group()
def ledger() -> None:
    """The double-entry ledger."""


@ledger.command("check")
@with_appcontext
def check() -> None:
    """Exit non-zero, naming each mismatch, unless every check passes."""
    problems, notes = check_books(db.session)
    problems += check_allocations(db.session)  # funds: FIFO allocation rebuilt from the ledger
    problems += check_disbursements(db.session)  # funds: executed disbursements posted once
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("ledger check: OK (every transaction balances; donations, refunds and ledger agree)")
