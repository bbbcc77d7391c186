"""MCA Order 81 arts. 14–15 (issue 16 point 9): an organization keeps its related-party
list; a gift from a listed party starts the 30-day related-party disclosure; the list
itself is owed to the registration authority by May 31 each year."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import func, select

from charity.compliance.rules.deadlines import OrgFacts, derive
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import RelatedParty
from charity.models.disclosure import ComplianceTrigger
from charity.services import offline
from tests.support.compliance import (
    cst_noon,
    login,
    make_campaign,
    make_org,
    make_pdf,
    member,
    short_key,
    statuses,
)


def _offline_gift(app, finance, campaign, payer: str, day: date):  # type: ignore[no-untyped-def]
    command = offline.NewOfflineGift(
        organization_id=campaign.organization_id, campaign_id=campaign.id,
        kind="bank_transfer", amount_fen=50_000, received_on=day, evidence=make_pdf("slip"),
        payer_name=payer, bank_reference=f"REF-{payer}-{day}",
    )  # fmt: skip
    return offline.record_offline_gift(db.session, finance, command, app.config["UPLOAD_DIR"])


def test_order81_the_related_party_list_is_owed_by_may_31_each_year():
    found = {
        short_key(d.key): d.due_date
        for d in derive([OrgFacts(1, date(2025, 1, 10))], [], [], {}, {}, date(2027, 1, 1))
    }
    assert found["related_party_list:org:2025"] == date(2026, 5, 31)
    assert found["related_party_list:org:2026"] == date(2027, 5, 31)
    filed = derive(
        [OrgFacts(1, date(2025, 1, 10))], [], [], {}, {}, date(2027, 1, 1),
        list_filings={(1, "2025"): date(2026, 5, 20)},
    )  # fmt: skip
    [item] = [d for d in filed if d.key == "related_party_list:1:org:2025"]
    assert item.fulfilled_on == date(2026, 5, 20)


def test_order81_a_gift_from_a_listed_party_starts_the_30_day_disclosure(
    app, en_client, db_session
):
    """Walked with time travel: the finance member lists 理事长's company; a bank transfer
    from it starts the related-party disclosure, due 30 days after the gift; a gift from
    anyone else starts nothing."""
    org = make_org(registered=date(2025, 1, 10))
    finance = member(org, "finance")
    campaign = make_campaign(org, date(2025, 3, 1), date(2025, 12, 31))
    with time_machine.travel(cst_noon(date(2025, 4, 1)), tick=False):
        login(en_client, finance)
        response = en_client.post(
            f"/orgs/{org.id}/related-parties",
            data={
                "party-name": "广州某某科技有限公司",
                "party-relationship": "理事长担任董事的企业",
            },
        )
        assert response.status_code == 302
        _offline_gift(app, finance, campaign, "无关的捐赠人", date(2025, 4, 1))
        count = select(func.count()).select_from(ComplianceTrigger)
        assert db_session.scalar(count) == 0
        _offline_gift(app, finance, campaign, "广州某某科技有限公司", date(2025, 4, 1))
        [trigger] = db_session.scalars(select(ComplianceTrigger)).all()
        assert trigger.kind == "related_party_gift"
        key = f"major_transactions:org:related_party_gift-{trigger.id}"
        found = statuses(db_session, org.id, today_cst())
        assert found[key] == "upcoming"
    with time_machine.travel(cst_noon(date(2025, 5, 7)), tick=False):  # due 05-01 → 05-06
        assert statuses(db_session, org.id, today_cst())[key] == "overdue"


def test_order81_list_filing_fulfils_the_yearly_obligation_and_bad_input_is_refused(
    en_client, db_session
):
    org = make_org(registered=date(2025, 1, 10))
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2026, 5, 20)), tick=False):
        login(en_client, owner)
        for data, field in (
            ({"filing-year": "2026", "filing-filed_on": "2026-05-20"}, "year"),
            ({"filing-year": "2025", "filing-filed_on": "2026-05-21"}, "filed_on"),
        ):
            response = en_client.post(f"/orgs/{org.id}/related-parties", data=data)
            assert response.status_code == 400
            assert f'id="filing-{field}-error"' in response.get_data(as_text=True)
        response = en_client.post(
            f"/orgs/{org.id}/related-parties", data={"party-name": "", "party-relationship": "x"}
        )
        assert response.status_code == 400
        assert db_session.scalar(select(func.count()).select_from(RelatedParty)) == 0
        response = en_client.post(
            f"/orgs/{org.id}/related-parties",
            data={"filing-year": "2025", "filing-filed_on": "2026-05-18"},
        )
        assert response.status_code == 302
        found = statuses(db_session, org.id, today_cst())
        assert found["related_party_list:org:2025"] == "on_time"
        # Editors do not keep the list.
        login(en_client, member(org, "editor"))
        assert en_client.get(f"/orgs/{org.id}/related-parties").status_code == 403
