"""`flask compliance remind`: 14 and 3 days before, and once overdue; each sent once."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.compliance.obligations.reminders import collect_reminders
from charity.extensions import db
from charity.models.disclosure import Obligation, SentReminder
from tests.support.compliance import cst_noon, make_org, member


def run_remind(app) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["compliance", "remind"])
    assert result.exit_code == 0, result.output
    return result.output


def test_reminders_walk_to_the_deadline_and_past_it(app, db_session, mail_outbox):
    org = make_org(registered=date(2025, 1, 11))  # basic information due 2025-02-10 (a Monday:
    # a deadline on a weekend would move to the next working day, Civil Code art. 203)
    owner = member(org, "owner")
    member(org, "editor")  # editors get no reminder
    runner = app.test_cli_runner()
    with time_machine.travel(cst_noon(date(2025, 1, 13)), tick=True):
        assert runner.invoke(args=["compliance", "refresh"]).exit_code == 0
        assert "sent 0" in run_remind(app)  # 28 days left
    with time_machine.travel(cst_noon(date(2025, 1, 27)), tick=True):  # 14 days left
        assert "sent 1" in run_remind(app)
        assert "sent 0" in run_remind(app)  # safe to run again
    assert [m["To"] for m in mail_outbox] == [owner.email]
    assert "2025-02-10" in mail_outbox[0].get_content()
    with time_machine.travel(cst_noon(date(2025, 2, 7)), tick=True):  # 3 days left
        assert "sent 1" in run_remind(app)
        assert "sent 0" in run_remind(app)
    with time_machine.travel(cst_noon(date(2025, 2, 11)), tick=True):  # overdue
        assert "sent 1" in run_remind(app)
    with time_machine.travel(cst_noon(date(2025, 3, 10)), tick=True):
        assert "sent 0" in run_remind(app)
    assert len(mail_outbox) == 3
    # The CLI writes in the default language; the texts are checked in English below.
    sent = db.session.query(SentReminder).order_by(SentReminder.id)
    assert [r.kind for r in sent] == ["due_14", "due_3", "overdue"]


def test_reminder_texts(app, db_session):
    org = make_org(registered=date(2025, 1, 11))
    member(org, "owner")
    app.test_cli_runner().invoke(args=["compliance", "refresh", "--today", "2025-01-21"])
    with app.test_request_context("/?lang=en"):
        soon = collect_reminders(db.session, date(2025, 1, 27))
        overdue = collect_reminders(db.session, date(2025, 2, 13))
    assert soon[0].subject.startswith("Due in 14 day(s): Basic information (registration)")
    assert "The deadline is 2025-02-10" in soon[0].body
    assert "Charity Law (2023) art. 78" in soon[0].body
    assert overdue[0].subject.startswith("Overdue: Basic information")
    assert "3 day(s) ago" in overdue[0].body


def test_a_late_first_run_sends_only_what_applies(app, db_session, mail_outbox):
    org = make_org(registered=date(2025, 1, 11))
    member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 2, 8)), tick=True):  # 2 days left
        app.test_cli_runner().invoke(args=["compliance", "refresh"])
        with app.test_request_context("/?lang=en"):
            mails = collect_reminders(db.session, date(2025, 2, 8))
    assert len(mails) == 1 and "Due in 2 day(s)" in mails[0].subject


def test_fulfilled_obligations_get_no_reminder(app, db_session, mail_outbox):
    org = make_org(registered=date(2025, 1, 10))
    member(org, "owner")
    app.test_cli_runner().invoke(args=["compliance", "refresh", "--today", "2025-01-20"])
    db.session.query(Obligation).update({"fulfilled_on": date(2025, 1, 20)})
    with app.test_request_context("/"):
        assert collect_reminders(db.session, date(2025, 1, 26)) == []
