"""``flask demo load``: demo data for the embedded default (idempotent)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from charity.demo import load_demo_data


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
@with_appcontext
def load() -> None:
    """Load demo data unless it is already there; print the logins."""
    for line in load_demo_data():
        click.echo(line)
