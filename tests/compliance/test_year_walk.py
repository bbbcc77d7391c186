"""An organization and its campaigns walked through a year and a half with time travel;
every obligation's status is checked on the way, including late and corrected filings."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import disclosures as service
from tests.support.compliance import (
    CAMPAIGN_FIGURES,
    cst_noon,
    make_campaign,
    make_org,
    make_pdf,
    member,
    statuses,
)
from tests.support.factories import GiftFactory

A = "campaign:{}"


def publish(app, actor, org, kind, period, subject="org", attachments=(), **fields):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        org.id, kind, subject, period, f"{kind} {period}", "正文", fields, attachments
    )
    return service.publish_disclosure(db.session, actor, command, app.config["UPLOAD_DIR"])


FINANCIAL = {
    "total_income_fen": 100_000_00,
    "last_year_income_fen": 100_000_00,
    "charitable_spending_fen": 50_000_00,
    "management_costs_fen": 30_000_00,
    "fundraising_costs_fen": 0,
    "total_spending_fen": 90_000_00,
    "net_assets_fen": 10_000_00,
    "prior_net_assets_fen": 10_000_00,
    "auditor": "广州某会计师事务所",
}


def at(day: date):  # type: ignore[no-untyped-def]
    return time_machine.travel(cst_noon(day), tick=True)


def test_a_year_of_obligations(app, db_session):
    org = make_org(registered=date(2025, 1, 10))
    partner = make_org(qualified=False)
    owner = member(org, "owner")
    long = make_campaign(
        org, date(2025, 3, 1), date(2025, 10, 15), partner=partner, filing_date=date(2025, 2, 10)
    )
    emergency = make_campaign(
        org, date(2025, 5, 1), date(2025, 5, 12), is_emergency=True, filing_date=date(2025, 5, 8)
    )
    lc, ec = A.format(long.id), A.format(emergency.id)
    db_session.add_all(
        [
            GiftFactory(
                campaign=long,
                amount_fen=10_000,
                status="succeeded",
                succeeded_at=cst_noon(date(2025, 4, 1)),
            ),
            GiftFactory(
                campaign=long,
                amount_fen=5_000,
                status="succeeded",
                succeeded_at=cst_noon(date(2025, 6, 10)),
            ),
        ]
    )
    db_session.flush()

    with at(date(2025, 1, 20)):
        assert today_cst() == date(2025, 1, 20)
        s = statuses(db_session, org.id, today_cst())
        assert s["basic_info_registration:org:registration"] == "upcoming"
        assert s[f"campaign_filing:{lc}:filing"] == "on_time"  # filed 2025-02-10, due 02-19
        assert s[f"emergency_filing:{ec}:filing"] == "on_time"  # filed 05-08, due 05-11
        assert s[f"campaign_progress:{lc}:2025-06-01"] == "upcoming"
        assert not [k for k in s if k.startswith("annual_")]

    with at(date(2025, 1, 28)):
        assert (
            statuses(db_session, org.id, today_cst())["basic_info_registration:org:registration"]
            == "due_soon"
        )

    with at(date(2025, 2, 12)):
        s = statuses(db_session, org.id, today_cst())
        assert s["basic_info_registration:org:registration"] == "overdue"
        basic = publish(
            app,
            owner,
            org,
            "basic_info",
            "registration",
            charter_summary="章程",
            board="理事会",
            supervisors="监事",
            contacts="020-1",
        )
        s = statuses(db_session, org.id, today_cst())
        assert s["basic_info_registration:org:registration"] == "late"

    with at(date(2025, 5, 20)):
        publish(app, owner, org, "emergency_update", "2025-05-06", ec, **CAMPAIGN_FIGURES)
        s = statuses(db_session, org.id, today_cst())
        assert s[f"emergency_update:{ec}:2025-05-06"] == "late"
        assert s[f"emergency_update:{ec}:2025-05-11"] == "overdue"
        assert s[f"campaign_result:{ec}:result"] == "upcoming"  # due 08-12

    with at(date(2025, 5, 25)):
        # The draft is as of the period's end: only the April gift counts.
        draft = service.draft_fields(db_session, "campaign_progress", long.id, "2025-06-01")
        assert draft["raised_fen"] == 10_000 and draft["gift_count"] == 1
        version = publish(
            app, owner, org, "campaign_progress", "2025-06-01", lc, **{**draft, "raised_fen": 9_000}
        )
        diffs = service.compare_figures(db_session, version)
        assert [(d.name, d.difference_fen) for d in diffs] == [("raised_fen", -1_000)]
        s = statuses(db_session, org.id, today_cst())
        assert s[f"campaign_progress:{lc}:2025-06-01"] == "on_time"

    with at(date(2025, 8, 20)):
        s = statuses(db_session, org.id, today_cst())
        assert s[f"campaign_progress:{lc}:2025-09-01"] == "due_soon"
        assert s[f"campaign_result:{ec}:result"] == "overdue"
        # CL art. 58 (issue 16 point 2): the emergency campaign raised nothing, so it
        # owes no leftover report; the long campaign's project has not ended yet.
        assert f"leftover_property:{ec}:end" not in s
        assert f"leftover_property:{lc}:end" not in s

    with at(date(2025, 9, 5)):
        assert statuses(db_session, org.id, today_cst())[f"campaign_progress:{lc}:2025-09-01"] == (
            "overdue"
        )

    with at(date(2026, 1, 1)):
        s = statuses(db_session, org.id, today_cst())
        # New Year in Beijing: the 2025 annual reports now exist.
        assert s["annual_work_report:org:2025"] == "upcoming"
        assert s["annual_financial_report:org:2025"] == "upcoming"
        assert s[f"campaign_result:{lc}:result"] == "due_soon"  # due 2026-01-15
        assert s[f"partner_evaluation:{lc}:end"] == "due_soon"

    with at(date(2026, 1, 10)):
        figures = service.draft_fields(db_session, "campaign_result", long.id, "result")
        result = publish(
            app, owner, org, "campaign_result", "result", lc, implementation="完成", **figures
        )
        assert service.compare_figures(db_session, result) == []
        publish(
            app,
            owner,
            org,
            "partner_evaluation",
            "end",
            lc,
            partner_name=partner.name,
            evaluation="良好",
        )
        # A correction of the late basic information keeps it "late": the first
        # publication date counts.
        service.correct_disclosure(
            db_session,
            owner,
            service.CorrectDisclosure(
                basic.disclosure_id,
                "基本信息（更正）",
                "正文",
                {
                    **{
                        k: v
                        for k, v in service.version_fields(basic).items()
                        if not k.startswith("_")
                    },
                    "board": "新理事会",
                },
                "理事会成员变更",
            ),
            app.config["UPLOAD_DIR"],
        )
        s = statuses(db_session, org.id, today_cst())
        assert s[f"campaign_result:{lc}:result"] == "on_time"
        assert s[f"partner_evaluation:{lc}:end"] == "on_time"
        assert s[f"leftover_property:{lc}:end"] == "due_soon"
        assert s["basic_info_registration:org:registration"] == "late"

    with at(date(2026, 5, 17)):
        s = statuses(db_session, org.id, today_cst())
        assert s["annual_work_report:org:2025"] == "due_soon"

    with at(date(2026, 6, 1)):
        s = statuses(db_session, org.id, today_cst())
        assert s["annual_work_report:org:2025"] == "overdue"
        assert s["annual_financial_report:org:2025"] == "overdue"
        assert s[f"leftover_property:{lc}:end"] == "overdue"

    with at(date(2026, 6, 3)):
        # CL art. 78 para. 2: a qualified organization's report is audited.
        audit = (service.Upload("audit.pdf", make_pdf("audit report")),)
        report = publish(
            app, owner, org, "annual_financial_report", "2025", attachments=audit, **FINANCIAL
        )
        assert report.ratio_ok is False  # 50% spending and 33% management
        s = statuses(db_session, org.id, today_cst())
        assert s["annual_financial_report:org:2025"] == "late"
        assert s["annual_work_report:org:2025"] == "overdue"
    counts = {}
    for value in s.values():
        counts[value] = counts.get(value, 0) + 1
    # No leftover duty for ec; the 2025 related-party list (Order 81) is overdue too.
    assert counts == {"on_time": 5, "late": 3, "overdue": 6}
