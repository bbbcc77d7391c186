"""``flask campaigns close-ended``: close campaigns past their end date (run daily; idempotent)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from charity.core import uow
from charity.extensions import db
from charity.services.campaigns import close_ended_campaigns


@click.group()
def campaigns() -> None:
    """Public fundraising campaigns."""


@campaigns.command("close-ended")
@with_appcontext
def close_ended() -> None:
    """Close every published campaign whose end date (China Standard Time) has passed."""
    closed = close_ended_campaigns(db.session)
    uow.commit()
    for campaign in closed:
        click.echo(
            f"closed campaign {campaign.id} {campaign.filing_number} (ended {campaign.end_date})"
        )
    click.echo(f"{len(closed)} campaign(s) closed")
