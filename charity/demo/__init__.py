"""Demo data for `make run`. Idempotent: running it again keeps existing data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module

from sqlalchemy import select

from charity.core import uow
from charity.extensions import db
from charity.models import User
from charity.models.base import utcnow
from charity.services import accounts, two_factor

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo on purpose

DEMO_USERS = [
    ("admin@demo.charity", "平台管理员", "admin", None),
    ("regulator@demo.charity", "广东省民政厅监管员", "regulator", "广东省"),
    ("donor@demo.charity", "王小明", "donor", None),
    ("donor2@demo.charity", "李华", "donor", None),
]


def ensure_user(email: str, name: str, role: str, province: str | None) -> User:
    user = accounts.find_user_by_email(db.session, email)
    if user is None:
        user = accounts.sign_up(
            db.session,
            accounts.SignUp(email, name, DEMO_PASSWORD),
            platform_role=role,
            email_verified=True,
        )
        user.regulator_province = province
    if user.email_verified_at is None:  # a demo database made before e-mail verification
        user.email_verified_at = utcnow()
    return user


#: The authenticator key of every demo account whose role needs two-factor authentication
#: (``two_factor.required_for``: the admin, the regulator, owners and finance members, the
#: fund's committee member): printed by `make run` so that they can log in and the
#: four-eyes steps can be tried (issue 15). Demo only.
DEMO_TOTP_SECRET = "DEMOCHARITYTOTPKEYFORMAKERUN2345"  # noqa: S105 - printed on purpose
#: Demo staff have held their roles this long: old enough to be a second person.
DEMO_MEMBERSHIP_AGE = timedelta(days=365)


def make_approver(user: User) -> User:
    """Two-factor on with the printed demo key (a demo database made before keeps its own)."""
    if user.totp_enabled_at is None:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = utcnow()
    return user


def load_users() -> list[str]:
    for email, name, role, province in DEMO_USERS:
        ensure_user(email, name, role, province)
    return [f"  {role:<10} {email:<28} {name}" for email, name, role, _ in DEMO_USERS]


#: Each feature adds its loader: a function that creates what is missing (idempotent,
#: it may be run on a database that already has the demo) and returns login lines.
LOADERS: list[str] = [
    "charity.demo:load_users",
    "charity.demo.orgs:load_organizations",
    "charity.demo.campaigns:load_campaigns",
    "charity.demo.compliance:load_compliance_demo",
    "charity.demo.compliance:load_major_transaction_demo",
    "charity.demo.projects:load_projects",
    "charity.demo.trusts:load_trusts",
    "charity.demo.funds:load_funds",
    "charity.demo.givingdays:load_givingday",
    "charity.demo.monthly:load_monthly_gift",
    "charity.demo.pictures:load_covers",
    "charity.demo:enrol_staff",
]


def enrol_staff() -> list[str]:
    """Last: every demo account whose role needs two-factor gets the printed demo key."""
    for user in db.session.scalars(select(User).where(User.totp_enabled_at.is_(None))):
        if two_factor.required_for(user, db.session):
            make_approver(user)
    return []


def load_demo_data() -> Iterator[str]:
    lines: list[str] = []
    for spec in LOADERS:
        module_name, attribute = spec.split(":")
        lines += getattr(import_module(module_name), attribute)() or []
        uow.commit()
    yield f"Demo logins (password for all: {DEMO_PASSWORD}):"
    yield from lines
    yield (
        f"Two-factor key of the demo admin, regulator, owners, finance members and "
        f"committee member: "
        f"{DEMO_TOTP_SECRET} (add it to an authenticator app)"
    )
