"""An individual beneficiary's evidence file is private (issue 15 finding 7).

The pages hide the person's name (受助人A-0012), but on the old code the evidence file of
an executed disbursement (an invoice, a receipt signed by the person) was downloadable by
anyone. Now only the paying organization's members, the fund's committee, platform admins
and the regulator of the organization's province get it; the public pages say that it is
on file. An organization's evidence stays public.
"""

from __future__ import annotations

import pytest

from charity.extensions import db
from charity.services import disbursements as svc
from charity.services.pools import Pool
from tests.support.factories import UserFactory, log_in
from tests.support.funds import day, gift

NAME = "张小花"


def _paid(people, fund, evidence, kind):  # type: ignore[no-untyped-def]
    command = svc.DisbursementRequest(
        Pool("fund", fund.id), 3000, "food", "困难家庭食品包", kind, NAME, evidence
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    svc.approve_disbursement(db.session, people.finance2, d.id)
    svc.execute_disbursement(db.session, people.finance, d.id, "BANK-1")
    db.session.commit()
    return d


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 403),
        ("donor", 403),
        ("other_editor", 403),
        ("outside_regulator", 403),
        ("regulator", 200),
        ("admin", 200),
        ("finance", 200),
        ("committee", 200),
    ],
)
def test_individual_evidence_only_for_those_who_may_see_it(
    client, people, fund, evidence, who, expected
):
    gift(fund, 10000, day(1))
    d = _paid(people, fund, evidence, "individual")
    users = {
        "donor": people.donor,
        "other_editor": people.other_editor,
        "outside_regulator": UserFactory(platform_role="regulator", regulator_province="北京市"),
        "regulator": UserFactory(platform_role="regulator", regulator_province="广东省"),
        "admin": UserFactory(platform_role="admin"),
        "finance": people.finance,
        "committee": people.committee[0],
    }
    if who in users:
        log_in(client, users[who])
    response = client.get(f"/disbursements/{d.id}/evidence")
    assert response.status_code == expected
    page = client.get(f"/disbursements/{d.id}").get_data(as_text=True)
    assert (f"/disbursements/{d.id}/evidence" in page) == (expected == 200)
    assert NAME not in client.get(f"/funds/{fund.id}").get_data(as_text=True)


def test_public_pages_say_it_exists_and_organizations_stay_public(client, people, fund, evidence):
    gift(fund, 10000, day(1))
    private = _paid(people, fund, evidence, "individual")
    public = _paid(people, fund, evidence, "organization")
    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert f"/disbursements/{private.id}/evidence" not in page and "On file (private)" in page
    assert f"/disbursements/{public.id}/evidence" in page
    assert client.get(f"/disbursements/{public.id}/evidence").status_code == 200
    shown = client.get(f"/disbursements/{private.id}").get_data(as_text=True)
    assert "kept private" in shown and NAME not in shown
