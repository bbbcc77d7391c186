"""``flask campaigns close-ended``: close campaigns past their end date (run daily; idempotent).
``flask campaigns digest``: mail donors the news of campaigns they gave to (run hourly; each
donor gets at most one mail a day, whatever the schedule)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.core import uow
from charity.extensions import db
from charity.ops.mail import queue_mail
from charity.services import donor_updates
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


@campaigns.command("digest")
@with_appcontext
def digest() -> None:
    """Mail each opted-in donor the news (updates, results, suspensions) of the campaigns
    they gave to since their last digest; sent after the commit (via the job queue when one
    is configured), so a failed run sends nothing and marks nothing."""
    # A request context gives url_for and the templates' filters (public_url builds from
    # PUBLIC_BASE_URL, never from this context's host).
    with current_app.test_request_context("/"):
        sent = donor_updates.send_due_digests(db.session, datetime.now(UTC), queue_mail)
    uow.commit()
    click.echo(f"{sent} digest e-mail(s) sent")
