"""The demo giving day: a running 6·30 event, a matching pool that matched the demo
gifts, two teams with gifts, two pledges one of them overdue; the books check out."""

from __future__ import annotations

import sqlalchemy as sa

from charity.demo import load_demo_data
from charity.demo.givingdays import EVENT_NAME
from charity.models import GivingDay, Match, Pledge, Team
from charity.services import givingdays
from charity.services.givingday_stats import pledge_rows
from charity.services.ledger import check_books


def test_demo_has_a_running_giving_day(db_session, client):  # type: ignore[no-untyped-def]
    list(load_demo_data())
    list(load_demo_data())  # idempotent
    event = db_session.scalars(sa.select(GivingDay).where(GivingDay.name == EVENT_NAME)).one()
    assert givingdays.event_is_on(event)
    assert len(event.pools) == 2
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Team)) == 2
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Match)) >= 4
    rows = pledge_rows(db_session, event_id=event.id)
    assert len(rows) == 2 and [r.overdue for r in rows].count(True) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Pledge)) == 2
    assert check_books(db_session)[0] == []
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "小明的午餐接力队" in html and "Overdue" in html
