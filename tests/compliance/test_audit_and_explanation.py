"""Charity Law (2023) art. 78 para. 2 (issue 16 point 6): a qualified organization's
annual financial report must be audited — it names the auditor and carries the audit
report; an unaudited report is refused and so never fulfils the obligation.
民发〔2016〕189号 art. 12 (issue 16 point 10): a ratio shortfall can carry the
organization's explanation of special circumstances, shown to the regulator beside it."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from charity.compliance.readmodels.dashboard import build_tables
from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import disclosures as service
from tests.support.compliance import (
    ANNUAL_FINANCE,
    cst_noon,
    login,
    make_org,
    make_pdf,
    member,
    statuses,
)
from tests.support.factories import UserFactory

UNAUDITED = {k: v for k, v in ANNUAL_FINANCE.items() if k != "auditor"}
AUDIT = (service.Upload("审计报告.pdf", make_pdf("audit report")),)


def _publish(app, actor, org, fields, attachments=(), year="2025"):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        org.id, "annual_financial_report", "org", year, f"{year}年度财务报告", "", fields,
        attachments,
    )  # fmt: skip
    return service.publish_disclosure(db.session, actor, command, app.config["UPLOAD_DIR"])


def test_cl78_unaudited_report_of_a_qualified_organization_is_refused(app, db_session):
    org = make_org()
    finance = member(org, "finance")
    with time_machine.travel(cst_noon(date(2026, 4, 1)), tick=False):
        with pytest.raises(service.DisclosureError) as caught:
            _publish(app, finance, org, UNAUDITED, AUDIT)
        assert caught.value.field == "auditor"
        with pytest.raises(service.DisclosureError) as caught:
            _publish(app, finance, org, ANNUAL_FINANCE)  # no audit report attached
        assert caught.value.field == "attachments"
        # Nothing was published: the obligation is still open.
        assert statuses(db_session, org.id, today_cst())["annual_financial_report:org:2025"] == (
            "upcoming"
        )
        _publish(app, finance, org, ANNUAL_FINANCE, AUDIT)
        found = statuses(db_session, org.id, today_cst())
        assert found["annual_financial_report:org:2025"] == "on_time"


def test_cl78_a_correction_keeps_the_audit_report_or_is_refused_without_an_auditor(app, db_session):
    org = make_org()
    finance = member(org, "finance")
    with time_machine.travel(cst_noon(date(2026, 4, 1)), tick=False):
        version = _publish(app, finance, org, ANNUAL_FINANCE, AUDIT)
        with pytest.raises(service.DisclosureError) as caught:
            service.correct_disclosure(
                db.session, finance,
                service.CorrectDisclosure(version.disclosure_id, "更正", "", UNAUDITED, "删审计"),
                app.config["UPLOAD_DIR"],
            )  # fmt: skip
        assert caught.value.field == "auditor"
        # The audit report carries over to a correction that attaches nothing new.
        corrected = service.correct_disclosure(
            db.session, finance,
            service.CorrectDisclosure(
                version.disclosure_id, "更正", "", ANNUAL_FINANCE, "更正错字"
            ),
            app.config["UPLOAD_DIR"],
        )  # fmt: skip
        assert len(corrected.attachments) == 1


def test_cl78_an_organization_without_the_qualification_need_not_be_audited(app, db_session):
    org = make_org(qualified=False)
    finance = member(org, "finance")
    with time_machine.travel(cst_noon(date(2026, 4, 1)), tick=False):
        _publish(app, finance, org, UNAUDITED)
        found = statuses(db_session, org.id, today_cst())
        assert found["annual_financial_report:org:2025"] == "on_time"


def test_189_art12_explanation_is_shown_beside_the_ratio_shortfall(en_client, app, db_session):
    org = make_org()
    finance = member(org, "finance")
    explanation = "2025 年特大洪灾，救灾物资于次年一季度拨付"
    with time_machine.travel(cst_noon(date(2026, 4, 1)), tick=False):
        version = _publish(
            app, finance, org, {**ANNUAL_FINANCE, "ratio_explanation": explanation}, AUDIT
        )
        assert version.ratio_ok is False
        headers, rows = build_tables(db_session, today_cst(), None, None)["ratio_failures"]
        [row] = [row for row in rows if row[0] == version.disclosure_id]
        assert dict(zip(headers, row, strict=True))["explanation"] == explanation
        login(en_client, UserFactory(platform_role="regulator"))
        page = en_client.get("/regulator/").get_data(as_text=True)
        assert explanation in page
        public = en_client.get(f"/disclosures/{version.disclosure_id}").get_data(as_text=True)
        assert explanation in public
        csv = en_client.get("/regulator/export/ratio_failures.csv").get_data(as_text=True)
        assert explanation in csv
