"""``flask compliance refresh`` and ``flask compliance remind`` (for cron or a job queue)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.obligations.reminders import collect_reminders
from charity.core import uow
from charity.core.clock import today_cst
from charity.extensions import db
from charity.ops.mail import queue_mail


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@click.group()
def compliance() -> None:
    """Disclosure obligations and reminders."""


@compliance.command("refresh")
@click.option("--today", default=None, help="Pretend today is YYYY-MM-DD (CST).")
@with_appcontext
def refresh(today: str | None) -> None:
    """Recompute every organization's obligations (run daily: new years add reports)."""
    counts = refresh_obligations(db.session, None, _day(today))
    uow.commit()
    click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))


@compliance.command("remind")
@click.option("--today", default=None, help="Pretend today is YYYY-MM-DD (CST).")
@with_appcontext
def remind(today: str | None) -> None:
    """Email owners 14 and 3 days before each deadline and once it is overdue; each
    reminder is sent once, however often this runs."""
    # A request context gives translations their default locale (the texts use gettext).
    with current_app.test_request_context("/"):
        mails = collect_reminders(db.session, _day(today) or today_cst())
    for mail in mails:  # sent after the commit: a rolled-back run sends nothing
        queue_mail(mail)
    uow.commit()
    click.echo(f"sent {len(mails)} reminder email(s)")
