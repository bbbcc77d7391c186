"""A project's published figures are compared with the books as of the moment they were
published (issue 16 points 4 and 12). Sources: Charity Law (2023) art. 79, second
sentence — a project over 6 months publishes its implementation every 3 months and, within
3 months of its end, its implementation and the use of the money; MCA Order 81 art. 16.
An honest report is not a mismatch because gifts or spending came after it; a report
whose money differs from the books of the campaigns that fund the project is flagged on
the regulator's dashboard and on the disclosure's page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from charity.compliance.readmodels.dashboard import mismatch_rows
from charity.models import CharitableProject
from charity.models.disclosure import Disclosure
from charity.services.disclosures import compare_figures
from tests.support.compliance import (
    cst_noon,
    login,
    make_campaign,
    make_org,
    member,
    spend_from_campaign,
)
from tests.support.factories import UserFactory
from tests.support.funds import gift


def _publish(client, org, project, kind: str, period: str, raised: str, spent: str, **extra):  # type: ignore[no-untyped-def]
    url = f"/orgs/{org.id}/disclosures/new?type={kind}&subject=project:{project.id}&period={period}"
    balance = f"{float(raised) - float(spent):.2f}"
    data = {"title": f"{kind} {period}", "raised_fen": raised, "spent_fen": spent,
            "balance_fen": balance, **extra}  # fmt: skip
    return client.post(url, data=data)


def _latest_version(session, project, kind: str):  # type: ignore[no-untyped-def]
    disclosure = session.scalar(
        select(Disclosure).where(
            Disclosure.subject_key == f"project:{project.id}", Disclosure.disclosure_type == kind
        )
    )
    return next(v for v in disclosure.versions if v.version == disclosure.latest_version)


def test_cl79_project_figures_are_judged_as_of_publication_and_mismatches_flagged(
    app, client, db_session
):
    org = make_org(province="广东省")
    owner, editor = member(org, "owner"), member(org, "editor")
    with time_machine.travel(cst_noon(date(2026, 2, 1)), tick=False):
        campaign = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
        login(client, owner)
        response = client.post(
            f"/orgs/{org.id}/projects/new",
            data={"title": "乡村图书角", "start_date": "2026-03-01",
                  "planned_end_date": "2026-11-30", "campaign_id": str(campaign.id)},
        )  # fmt: skip
        assert response.status_code == 302, response.get_data(as_text=True)
        project = db_session.scalar(select(CharitableProject).order_by(CharitableProject.id.desc()))
    with time_machine.travel(datetime(2026, 3, 2, 4, tzinfo=UTC), tick=False):
        gift(campaign, 100_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
    with time_machine.travel(cst_noon(date(2026, 3, 20)), tick=False):
        spend_from_campaign(app, org, campaign, 30_000)

    # Published a day late (June 2), honest as of the end of its period (June 1): a gift
    # that arrived on June 2 before publication does not count against it.
    with time_machine.travel(datetime(2026, 6, 2, 1, tzinfo=UTC), tick=False):
        gift(campaign, 5_000, datetime(2026, 6, 2, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 6, 2, 2, tzinfo=UTC), tick=False):
        login(client, editor)
        response = _publish(
            client, org, project, "project_progress", "2026-06-01", "1000.00", "300.00",
            progress="已建成 3 个图书角。",
        )  # fmt: skip
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    progress = _latest_version(db_session, project, "project_progress")
    assert progress.reported_raised_fen == 100_000 and progress.reported_spent_fen == 30_000
    assert progress.figures_as_of == datetime(2026, 6, 1, 16, tzinfo=UTC)  # June 1 ends, CST

    # More gifts and spending after publication: still not a mismatch.
    with time_machine.travel(cst_noon(date(2026, 7, 1)), tick=False):
        gift(campaign, 50_000, datetime(2026, 7, 1, 4, tzinfo=UTC))
        spend_from_campaign(app, org, campaign, 10_000)
        assert compare_figures(db_session, progress) == []
        assert not [row for row in mismatch_rows(db_session, None, None) if row[3] == "乡村图书角"]

    # The result claims more spending than the books show (¥1,550 raised, ¥400 spent).
    with time_machine.travel(cst_noon(date(2026, 12, 10)), tick=False):
        login(client, editor)
        wrong = dict(implementation="已完成。", use_summary="购书。")
        first = _publish(client, org, project, "project_result", "completion", "1550.00",
                         "900.00", **wrong)  # fmt: skip
        # Warned before publishing (issue 17 point 4): the form comes back with the books'.
        assert first.status_code == 409 and "400.00" in first.get_data(as_text=True)
        key = "spent_fen:90000:40000,balance_fen:65000:115000"
        published = _publish(client, org, project, "project_result", "completion", "1550.00",
                             "900.00", confirm_differences=key, **wrong)  # fmt: skip
        assert published.status_code == 302, published.get_data(as_text=True)[:500]
        result = _latest_version(db_session, project, "project_result")
        differences = {d.name: (d.reported_fen, d.computed_fen) for d in compare_figures(
            db_session, result)}  # fmt: skip
        assert differences == {"spent_fen": (90_000, 40_000), "balance_fen": (65_000, 115_000)}
        rows = [row for row in mismatch_rows(db_session, None, None) if row[3] == "乡村图书角"]
        assert [(row[4], row[6], row[9]) for row in rows] == [
            ("project_result", "spent_fen", 50_000),
            ("project_result", "balance_fen", -50_000),
        ]
        # On the regulator's dashboard (its province) and on the disclosure's page.
        regulator = UserFactory(
            platform_role="regulator", regulator_province="广东省",
            totp_secret="JBSWY3DPEHPK3PXP", totp_enabled_at=datetime.now(UTC),
        )  # fmt: skip
        login(client, regulator)
        page = client.get("/regulator/").get_data(as_text=True)
        assert "乡村图书角" in page and f"/disclosures/{result.disclosure_id}" in page
        shown = client.get(f"/disclosures/{result.disclosure_id}").get_data(as_text=True)
        assert "500.00" in shown  # the difference in spending, ¥500
