"""``flask users ...``: create administrators and regulators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from charity.extensions import db
from charity.services import accounts


@click.group()
def users() -> None:
    """Manage user accounts."""


def _create(email: str, name: str, password: str, role: str, province: str | None) -> None:
    try:
        user = accounts.sign_up(
            db.session, accounts.SignUp(email, name, password), platform_role=role
        )
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from None
    user.regulator_province = province
    db.session.commit()
    click.echo(f"created {role} {user.email} (id {user.id})")


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Platform admin")
@click.password_option()
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform administrator."""
    _create(email, name, password, "admin", None)


@users.command("create-regulator")
@click.option("--email", required=True)
@click.option("--name", default="Regulator")
@click.option("--province", default=None, help="Scope to one province (optional).")
@click.password_option()
@with_appcontext
def create_regulator(email: str, name: str, province: str | None, password: str) -> None:
    """Create a read-only regulator account, optionally scoped to a province."""
    _create(email, name, password, "regulator", province)
