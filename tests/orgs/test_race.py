"""Two applications with the same USCC at the same time, on two real connections."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charity.extensions import db
from charity.models import Organization, User
from charity.services import organizations as service
from tests.factories import make_uscc


def _data(code: str) -> service.ApplicationData:
    return service.ApplicationData(
        name="竞争申请",
        uscc=code,
        registration_authority="广东省民政厅",
        province="广东省",
        city="广州市",
        district="",
        address="广州市某路 1 号",
        contact_name="甲",
        contact_phone="020-1234567",
        contact_email="a@example.org",
        website="",
        description_md="x",
    )


def test_the_loser_of_a_race_gets_the_duplicate_field_error(app, committed_db, postgres_only):
    with Session(db.engine) as setup:
        users = [User(email=f"racer{n}@example.org", name="r", password_hash="x") for n in (1, 2)]
        setup.add_all(users)
        setup.commit()
        ids = [user.id for user in users]
    code = make_uscc("3", 4242)
    first, second = Session(db.engine), Session(db.engine)
    outcome: dict[str, object] = {}
    try:
        service.apply_for_organization(first, first.get(User, ids[0]), _data(code))
        # The first application is written but not committed: the second one's duplicate
        # check cannot see it, and its INSERT waits on the unique index.

        def apply_second() -> None:
            with app.app_context():
                try:
                    service.apply_for_organization(second, second.get(User, ids[1]), _data(code))
                    second.commit()
                    outcome["result"] = "stored"
                except service.OrganizationError as error:
                    outcome["result"] = error.field
                    second.rollback()

        thread = threading.Thread(target=apply_second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second INSERT should wait for the first transaction"
        first.commit()
        thread.join(timeout=10)
    finally:
        first.close()
        second.close()
    assert outcome == {"result": "uscc"}
    with Session(db.engine) as check:
        assert check.scalar(select(func.count()).select_from(Organization)) == 1
