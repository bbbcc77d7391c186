"""A verified organization's owner changes its basic information: logged without personal
data, and the 30-day obligation to publish the changed basic information starts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from charity.compliance.rules.dates import period_end
from charity.compliance.rules.deadlines import status_of
from charity.core import events
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models.disclosure import ComplianceTrigger, Obligation
from tests.support.compliance import BASIC_INFO, login, make_org, member


def form(org, **changes):  # type: ignore[no-untyped-def]
    values = {
        "address": org.address,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "contact_email": org.contact_email,
        "website": org.website,
        "description_md": org.description_md,
    }
    return {**values, **changes}


@pytest.fixture
def captured():  # type: ignore[no-untyped-def]
    seen: list[events.Event] = []

    def handler(session, event):  # type: ignore[no-untyped-def]
        seen.append(event)

    events.subscribe(handler)
    yield seen
    events.unsubscribe(handler)


def _change_obligations(org_id: int) -> list[Obligation]:
    return (
        db.session.query(Obligation)
        .filter_by(organization_id=org_id, rule_code="basic_info_change")
        .all()
    )


def test_owner_changes_basic_info_and_the_obligation_appears(en_client, org, owner, captured):  # type: ignore[no-untyped-def]
    login(en_client, owner)
    manage = en_client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert f"/orgs/{org.id}/basic-info" in manage
    page = en_client.get(f"/orgs/{org.id}/basic-info")
    assert page.status_code == 200 and 'name="address"' in page.get_data(as_text=True)
    uscc, name = org.uscc, org.name
    response = en_client.post(
        f"/orgs/{org.id}/basic-info",
        data=form(
            org,
            address="广州市越秀区新地址2号",
            website="https://example.org",
            name="改名",
            uscc="X",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/obligations")
    db.session.refresh(org)
    assert (org.address, org.website, org.name, org.uscc) == (
        "广州市越秀区新地址2号",
        "https://example.org",
        name,
        uscc,
    )
    [event] = [e for e in captured if e.type == "organization.basic_info_changed"]
    assert event.data == {
        "organization_id": org.id,
        "org_uscc": uscc,
        "org_type": org.org_type,
        "changed_fields": ["address", "website"],
    }
    [trigger] = db.session.query(ComplianceTrigger).filter_by(organization_id=org.id).all()
    assert (trigger.kind, trigger.occurred_on) == ("basic_info_change", today_cst())
    [ob] = _change_obligations(org.id)
    assert ob.period_key == f"basic_info_change-{trigger.id}"
    assert ob.due_date == period_end(today_cst() + timedelta(days=30))
    assert status_of(ob.due_date, ob.fulfilled_on, today_cst()) == "upcoming"
    # The obligations page offers to publish it; publishing fulfils it on time.
    obligations = en_client.get(f"/orgs/{org.id}/obligations").get_data(as_text=True)
    assert f"period=basic_info_change-{trigger.id}" in obligations
    published = en_client.post(
        f"/orgs/{org.id}/disclosures/new",
        data={
            "type": "basic_info",
            "subject": "org",
            "period": ob.period_key,
            "title": "基本信息变更",
            **BASIC_INFO,
        },
    )
    assert published.status_code == 302, published.get_data(as_text=True)
    [ob] = _change_obligations(org.id)
    assert ob.disclosure_id is not None
    assert status_of(ob.due_date, ob.fulfilled_on, today_cst()) == "on_time"


def test_saving_without_a_change_records_nothing(en_client, org, owner, captured):  # type: ignore[no-untyped-def]
    login(en_client, owner)
    response = en_client.post(f"/orgs/{org.id}/basic-info", data=form(org))
    assert response.status_code == 302
    assert not [e for e in captured if e.type == "organization.basic_info_changed"]
    assert db.session.query(ComplianceTrigger).count() == 0


def test_bad_input_is_a_field_error_and_nothing_is_stored(en_client, org, owner):  # type: ignore[no-untyped-def]
    login(en_client, owner)
    before = org.contact_email
    response = en_client.post(
        f"/orgs/{org.id}/basic-info",
        data=form(org, contact_email="not an email", website="javascript:alert(1)"),
    )
    assert response.status_code == 400
    db.session.refresh(org)
    assert org.contact_email == before
    assert db.session.query(ComplianceTrigger).count() == 0


@pytest.mark.parametrize("role", ["editor", "finance"])
def test_only_owners_change_basic_info(client, org, role):  # type: ignore[no-untyped-def]
    login(client, member(org, role))
    assert client.get(f"/orgs/{org.id}/basic-info").status_code == 403
    assert client.post(f"/orgs/{org.id}/basic-info", data=form(org, address="x")).status_code == 403


def test_a_pending_organization_edits_its_application_instead(client, db_session):  # type: ignore[no-untyped-def]
    pending = make_org(status="pending")
    login(client, member(pending, "owner"))
    response = client.get(f"/orgs/{pending.id}/basic-info")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{pending.id}/edit")
