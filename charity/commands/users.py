"""``flask users ...``: create administrators and regulators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from charity.core import uow
from charity.core.text import has_forbidden_characters
from charity.extensions import db
from charity.services import accounts


@click.group()
def users() -> None:
    """Manage user accounts."""


def _create(email: str, name: str, password: str, role: str, province: str | None) -> None:
    if province is not None and (
        not province.strip() or len(province) > 32 or has_forbidden_characters(province)
    ):
        raise click.BadParameter(
            "at most 32 characters, no control characters", param_hint="--province"
        )
    try:
        user = accounts.sign_up(
            db.session,
            accounts.SignUp(email, name, password),
            platform_role=role,
            regulator_province=province.strip() if province else None,
            email_verified=True,  # created by the operator, who knows the person
        )
    except accounts.AccountError as error:
        uow.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from None
    uow.commit()
    scope = f", province {user.regulator_province}" if user.regulator_province else ""
    click.echo(f"created {role} {user.email} (id {user.id}{scope})")


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Platform admin")
@click.password_option(help="At least 10 characters (prompted when omitted).")
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform administrator."""
    _create(email, name, password, "admin", None)


@users.command("create-regulator")
@click.option("--email", required=True)
@click.option("--name", default="Regulator")
@click.option("--province", default=None, help="Scope to one province, e.g. 广东省 (optional).")
@click.password_option(help="At least 10 characters (prompted when omitted).")
@with_appcontext
def create_regulator(email: str, name: str, province: str | None, password: str) -> None:
    """Create a read-only regulator account, optionally scoped to a province."""
    _create(email, name, password, "regulator", province)
