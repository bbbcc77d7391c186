"""Deadline reminders to organization owners: 14 and 3 days before, and when overdue.

Each (obligation, kind) is sent once: a row in ``sent_reminders`` with a unique key is
written in the same transaction, and mail goes out only after the commit, so running
``flask compliance remind`` any number of times (or twice at once) sends nothing twice.
If the mail server fails after the commit, that reminder is not retried (at most once).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charity.compliance.rules import law as r
from charity.models import Membership, Organization, User
from charity.models.disclosure import Obligation, SentReminder
from charity.ops.mail import Mail

#: kind -> (first, last) days before the deadline (negative: after) in which it is sent.
WINDOWS = {"due_14": (4, 14), "due_3": (0, 3), "overdue": (-100_000, -1)}


def _candidates(session: Session, today: date, kind: str) -> list[Obligation]:
    low, high = WINDOWS[kind]
    already = exists().where(
        SentReminder.obligation_key == Obligation.key, SentReminder.kind == kind
    )
    return list(
        session.scalars(
            select(Obligation)
            .where(
                Obligation.fulfilled_on.is_(None),
                Obligation.due_date >= today + timedelta(days=low),
                Obligation.due_date <= today + timedelta(days=high),
                ~already,
            )
            .order_by(Obligation.due_date, Obligation.id)
        )
    )


def _owners(session: Session, org_ids: set[int]) -> dict[int, list[str]]:
    owners: dict[int, list[str]] = {}
    rows = session.execute(
        select(Membership.organization_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organization_id.in_(org_ids),
            Membership.role == "owner",
            User.is_active_account.is_(True),
        )
    )
    for org_id, email in rows:
        owners.setdefault(org_id, []).append(email)
    return owners


def _mail(to: str, org_name: str, obligation: Obligation, kind: str, today: date) -> Mail:
    label = str(r.TYPE_LABELS[obligation.disclosure_type])
    days = (obligation.due_date - today).days
    names = {
        "label": label,
        "period": obligation.period_key,
        "org": org_name,
        "due": obligation.due_date.isoformat(),
    }
    if kind == "overdue":
        subject = _("Overdue: %(label)s (%(period)s) for %(org)s", **names)
        lead = _("The deadline was %(due)s, %(days)s day(s) ago.", days=-days, **names)
    else:
        subject = _(
            "Due in %(days)s day(s): %(label)s (%(period)s) for %(org)s", days=days, **names
        )
        lead = _("The deadline is %(due)s (China Standard Time).", **names)
    rule = r.RULES_BY_CODE[obligation.rule_code]
    body = f"{lead}\n\n{label}: {rule.due}.\n{_('Source')}: {rule.source}.\n"
    return Mail(to=to, subject=subject, body=body)


def collect_reminders(session: Session, today: date) -> list[Mail]:
    """Record every reminder due today and return the mails to send after the commit."""
    found = [(kind, ob) for kind in WINDOWS for ob in _candidates(session, today, kind)]
    org_ids = {ob.organization_id for _kind, ob in found}
    owners = _owners(session, org_ids) if org_ids else {}
    names: dict[int, str] = {}
    if org_ids:
        query = select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
        names = {org_id: name for org_id, name in session.execute(query)}
    mails: list[Mail] = []
    for kind, obligation in found:
        recipients = owners.get(obligation.organization_id, [])
        try:
            with session.begin_nested():
                session.add(
                    SentReminder(
                        obligation_key=obligation.key, kind=kind, recipients=len(recipients)
                    )
                )
        except IntegrityError:
            continue  # another run recorded it first
        org_name = names.get(obligation.organization_id, "")
        mails.extend(_mail(email, org_name, obligation, kind, today) for email in recipients)
    return mails
