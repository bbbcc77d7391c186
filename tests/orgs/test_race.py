"""Two applications with the same USCC at the same time, on two real connections."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charity.extensions import db
from charity.models import Organization, User
from charity.services import organizations as service
from tests.support.factories import make_uscc


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


def test_the_loser_of_an_approval_race_gets_an_error(app, committed_db, postgres_only):
    """Two applications with one USCC (allowed: finding 10), approved at the same time by
    two administrators: the partial unique index decides, the loser gets an error."""
    code = make_uscc("3", 4242)
    with Session(db.engine) as setup:
        users = [User(email=f"racer{n}@example.org", name="r", password_hash="x") for n in (1, 2)]
        admin = User(email="admin-racer@example.org", name="a", password_hash="x")
        admin.platform_role = "admin"
        setup.add_all([*users, admin])
        setup.flush()
        orgs = [service.apply_for_organization(setup, user, _data(code)) for user in users]
        setup.commit()
        org_ids, admin_id = [org.id for org in orgs], admin.id
    first, second = Session(db.engine), Session(db.engine)
    outcome: dict[str, object] = {}
    try:
        service.approve_organization(
            first, first.get(User, admin_id), first.get(Organization, org_ids[0])
        )

        def approve_second() -> None:
            with app.app_context():
                try:
                    service.approve_organization(
                        second, second.get(User, admin_id), second.get(Organization, org_ids[1])
                    )
                    second.commit()
                    outcome["result"] = "verified"
                except service.OrganizationError as error:
                    outcome["result"] = str(error.message)
                    second.rollback()

        thread = threading.Thread(target=approve_second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second UPDATE should wait for the first transaction"
        first.commit()
        thread.join(timeout=10)
    finally:
        first.close()
        second.close()
    assert outcome["result"] == str(service.USCC_ALREADY_VERIFIED)
    with Session(db.engine) as check:
        verified = select(func.count()).select_from(Organization)
        assert check.scalar(verified.where(Organization.status == "verified")) == 1
