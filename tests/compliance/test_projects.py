"""Charitable projects (慈善项目; issue 16 point 12).

Charity Law (2023) art. 79, second sentence: a project whose implementation lasts over 6
months publishes its implementation at least every 3 months, and its implementation and
the use of the money within 3 months after it ends. MCA Order 81 art. 16: each project
has its own information entry. CL art. 58: leftover property is counted from the end of
the project the money serves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from charity.compliance.rules.deadlines import OrgFacts, derive
from charity.compliance.rules.projects import ProjectFacts
from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import AuditEntry, CharitableProject
from charity.models.disclosure import Obligation
from charity.services import projects as service
from tests.support.compliance import (
    cst_noon,
    login,
    make_campaign,
    make_org,
    member,
    short_key,
    spend_from_campaign,
    statuses,
)
from tests.support.funds import gift


def _due(project: ProjectFacts, today: date = date(2027, 6, 1)) -> dict[str, date]:
    found = derive([OrgFacts(1, date(2025, 1, 10))], [], [], {}, {}, today, projects=[project])
    return {
        short_key(d.key).split(":", 1)[1]: d.due_date
        for d in found
        if d.rule_code.startswith("project_")
    }


def test_cl79_a_year_long_project_owes_progress_every_three_months_and_a_result():
    # Nov 30 + 3 months clamps to Feb 28 (2026 is not a leap year); Feb 28 2026 is a
    # Saturday made a working day by the 春节 swap (调休), so it stays (Civil Code
    # art. 203 moves only rest days).
    year = ProjectFacts(1, 1, date(2025, 11, 30), date(2026, 11, 29))
    assert _due(year) == {
        "project:1:2026-02-28": date(2026, 2, 28),
        "project:1:2026-05-30": date(2026, 6, 1),  # a Saturday → Monday June 1
        "project:1:2026-08-30": date(2026, 8, 31),
        "project:1:completion": date(2027, 3, 1),  # Feb 28 2027 is a Sunday
    }


def test_cl79_six_months_or_less_owes_only_the_result():
    short = ProjectFacts(2, 1, date(2025, 3, 1), date(2025, 9, 1))  # exactly 6 months
    assert _due(short) == {"project:2:completion": date(2025, 12, 1)}


def test_cl79_an_early_end_keeps_reports_already_due_and_moves_the_result():
    # Planned for a year, ended after four months: the June report had fallen due; later
    # ones never arise; the result is due 3 months after the actual end.
    early = ProjectFacts(3, 1, date(2025, 3, 3), date(2026, 3, 2), date(2025, 7, 4))
    assert _due(early) == {
        "project:3:2025-06-03": date(2025, 6, 3),
        "project:3:completion": date(2025, 10, 9),  # Oct 4: National Day holiday → Oct 9
    }


def test_cl79_project_walk_with_books_leftover_and_its_own_entry(app, client, db_session):
    """Walked with time travel through the pages: an owner records a 9-month project
    funded by a campaign, gifts and spending flow, the first progress report becomes
    due soon and then overdue, is published pre-filled from the books, the project ends
    with money left and the leftover report is counted from the project's end, not
    the fundraising's (CL art. 58; Order 81 art. 16 entry)."""
    org = make_org()
    owner = member(org, "owner")
    # The owner approves spending below, which turns two-factor on for them (the
    # four-eyes rule); the editor publishes.
    editor = member(org, "editor")
    with time_machine.travel(cst_noon(date(2026, 2, 1)), tick=False):
        campaign = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
        login(client, owner)
        response = client.post(
            f"/orgs/{org.id}/projects/new",
            data={
                "title": "山区学校营养午餐",
                "start_date": "2026-03-01",
                "planned_end_date": "2026-11-30",
                "campaign_id": str(campaign.id),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        project = db_session.scalar(select(CharitableProject).order_by(CharitableProject.id.desc()))
        assert service.campaign_ids(db_session, project.id) == [campaign.id]
    progress = f"project_progress:project:{project.id}:2026-06-01"
    leftover = f"leftover_property:campaign:{campaign.id}:end"
    with time_machine.travel(datetime(2026, 3, 2, 4, tzinfo=UTC), tick=False):
        gift(campaign, 100_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
    with time_machine.travel(cst_noon(date(2026, 3, 20)), tick=False):
        spend_from_campaign(app, org, campaign, 30_000)
    with time_machine.travel(cst_noon(date(2026, 5, 25)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        assert found[progress] == "due_soon"
        # The fundraising ended in March, the project has not: no leftover report yet.
        assert leftover not in found
        page = client.get(f"/projects/{project.id}").get_data(as_text=True)
        assert "山区学校营养午餐" in page and "¥1,000.00" in page and "¥300.00" in page
    # 2026-06-01 is a Monday; the report is due that day and overdue the day after
    # (Beijing day boundary: 16:30 UTC on June 1 is already June 2 in Beijing).
    with time_machine.travel(datetime(2026, 6, 1, 15, 30, tzinfo=UTC), tick=False):
        assert statuses(db_session, org.id, today_cst())[progress] == "due_soon"
    with time_machine.travel(datetime(2026, 6, 1, 16, 30, tzinfo=UTC), tick=False):
        assert statuses(db_session, org.id, today_cst())[progress] == "overdue"
        login(client, editor)
        form = client.get(
            f"/orgs/{org.id}/disclosures/new?type=project_progress"
            f"&subject=project:{project.id}&period=2026-06-01"
        ).get_data(as_text=True)
        assert 'value="1000.00"' in form and 'value="300.00"' in form  # from the books
        response = client.post(
            f"/orgs/{org.id}/disclosures/new?type=project_progress"
            f"&subject=project:{project.id}&period=2026-06-01",
            data={
                "title": "第一季度实施进展",
                "raised_fen": "1000.00",
                "spent_fen": "300.00",
                "balance_fen": "700.00",
                "progress": "已为 3 所学校供餐。",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert statuses(db_session, org.id, today_cst())[progress] == "late"
    with time_machine.travel(cst_noon(date(2026, 12, 1)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        # ¥700 left when the project ended on Nov 30: due 3 months later (Feb 28 2027 is
        # a Sunday, so March 1), counted from the project, not from March 31.
        assert found[leftover] == "upcoming"
        assert found[f"project_result:project:{project.id}:completion"] == "upcoming"
        # The project's own entry lists its disclosure (Order 81 art. 16).
        page = client.get(f"/projects/{project.id}").get_data(as_text=True)
        assert "2026-06-01" in page and "/disclosures/" in page
    rows = {
        short_key(ob.key): ob.due_date
        for ob in db_session.scalars(select(Obligation).filter_by(organization_id=org.id))
    }
    assert rows[leftover] == date(2027, 3, 1)


def test_cl79_recording_the_end_moves_the_result_and_is_logged(db_session):
    org = make_org()
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2026, 5, 10)), tick=False):
        project = service.create_project(
            db_session,
            owner,
            service.NewProject(org.id, "社区助浴", "", date(2026, 1, 5), date(2026, 12, 31)),
        )
        service.record_end(db_session, owner, project.id, date(2026, 5, 8))
        found = statuses(db_session, org.id, today_cst())
        assert f"project_progress:project:{project.id}:2026-04-05" in found
        assert f"project_progress:project:{project.id}:2026-07-05" not in found
        result = db_session.scalar(
            select(Obligation.due_date).where(
                Obligation.key == f"project_result:{org.id}:project:{project.id}:completion"
            )
        )
        assert result == date(2026, 8, 10)  # Aug 8 is a Saturday → Monday Aug 10
        types = set(db_session.scalars(select(AuditEntry.event_type)))
        assert {"project.created", "project.ended"} <= types


def test_cl79_bad_project_input_is_refused_with_field_errors(db_session):
    org, other = make_org(), make_org()
    owner = member(org, "owner")
    foreign = make_campaign(other, date(2026, 3, 1), date(2026, 3, 31))
    bad_dates = service.NewProject(org.id, "x", "", date(2026, 5, 1), date(2026, 4, 1))
    for command, field in [
        (bad_dates, "planned_end_date"),
        (service.NewProject(org.id, " ", "", date(2026, 1, 1), date(2026, 2, 1)), "title"),
        (
            service.NewProject(
                org.id, "x", "", date(2026, 1, 1), date(2026, 2, 1), campaign_ids=(foreign.id,)
            ),
            "campaign_id",
        ),
    ]:
        try:
            with db_session.begin_nested():
                service.create_project(db_session, owner, command)
        except service.ProjectError as error:
            assert error.field == field
        else:  # pragma: no cover - the test fails
            raise AssertionError(field)
    editor_of_other = member(other, "editor")
    try:
        service.create_project(
            db_session,
            editor_of_other,
            service.NewProject(org.id, "x", "", date(2026, 1, 1), date(2026, 2, 1)),
        )
    except PermissionError:
        pass
    else:  # pragma: no cover
        raise AssertionError("another organization's editor recorded a project")


def test_order81_api_lists_projects_with_their_campaigns(client, db_session):
    org = make_org()
    owner = member(org, "owner")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
    project = service.create_project(
        db_session,
        owner,
        service.NewProject(
            org.id,
            "长者助餐",
            "",
            date(2026, 1, 1),
            date(2026, 12, 31),
            campaign_ids=(campaign.id,),
        ),
    )
    db.session.commit()
    body = client.get(f"/api/v1/projects/{project.id}").get_json()
    assert body["campaign_ids"] == [campaign.id]
    assert body["planned_end_date"] == "2026-12-31"
    assert "projects" in client.get("/api/v1/openapi.json").get_data(as_text=True)


def test_cl79_demo_project_has_a_progress_report_due_soon(db_session):
    from charity.demo import load_demo_data

    list(load_demo_data())
    today = today_cst()
    project = db_session.scalar(select(CharitableProject))
    assert project is not None and "演示" in project.title
    found = statuses(db_session, project.organization_id, today)
    progress = [k for k in found if k.startswith(f"project_progress:project:{project.id}:")]
    assert progress and found[progress[0]] == "due_soon"
