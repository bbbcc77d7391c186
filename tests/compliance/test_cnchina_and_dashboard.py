"""慈善中国 interoperation (issue 16 point 16) and the regulator dashboard's complaints,
suspensions and 慈善中国 tables (points 15-16). Sources: MCA Order 81 (慈善组织信息公开办法)
arts. 4 and 8-16 — organizations publish on 慈善中国, the platform the Ministry set up —
and CL (2023) art. 108 (2016: art. 97) for complaints; the mapping is in docs/compliance.md."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import time_machine
from sqlalchemy import select

from charity.compliance.presentation.cnexport import HEADERS
from charity.extensions import db
from charity.models import CampaignSuspension, Complaint
from charity.models.base import utcnow
from charity.models.disclosure import Disclosure, DisclosureVersion
from charity.models.enforcement import CnchinaEntry
from tests.support.compliance import cst_noon, login, make_campaign, make_org, member
from tests.support.factories import UserFactory


def _disclosure(org, kind: str = "annual_work_report", period: str = "2025") -> Disclosure:  # type: ignore[no-untyped-def]
    disclosure = Disclosure(
        organization_id=org.id, disclosure_type=kind, subject_key="org", period_key=period,
        latest_version=1, first_published_at=utcnow(),
    )  # fmt: skip
    disclosure.versions.append(
        DisclosureVersion(version=1, title="2025年度工作报告", body_md="全年开展助学活动。",
                          fields_json=json.dumps({}), content_hash="ab" * 32)
    )  # fmt: skip
    db.session.add(disclosure)
    db.session.flush()
    return disclosure


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_order81_disclosures_export_in_the_national_platforms_fields(client, db_session):
    org = make_org()
    disclosure = _disclosure(org)
    response = client.get(f"/orgs/{org.id}/disclosures/cnchina.csv")
    assert response.status_code == 200
    [headers, row] = _csv(response)
    assert headers == HEADERS and headers[0] == "统一社会信用代码"
    record = dict(zip(headers, row, strict=True))
    assert record["信息类别"] == "年度工作报告" and record["慈善组织名称"] == org.name
    assert record["统一社会信用代码"] == org.uscc and record["慈善中国编号"] == ""
    assert "全年开展助学活动" in record["信息内容"]
    assert record["本平台链接"].endswith(f"/disclosures/{disclosure.id}")
    xlsx = client.get(f"/orgs/{org.id}/disclosures/cnchina.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert client.get(f"/orgs/{org.id}/disclosures/cnchina.pdf").status_code == 404


def test_members_record_the_cnchina_entry_and_the_page_and_export_show_it(
    en_client, db_session, recorded_events
):
    org = make_org()
    disclosure = _disclosure(org)
    url = f"/disclosures/{disclosure.id}/cnchina"
    login(en_client, UserFactory())
    assert en_client.post(url, data={"entry_number": "X1"}).status_code == 403
    login(en_client, member(org, "editor"))
    bad = en_client.post(
        url, data={"entry_number": "53440100-2025-001", "url": "https://evil.example/x"}
    )
    assert bad.status_code == 400 and 'id="url-error"' in bad.get_data(as_text=True)
    assert db_session.scalar(select(CnchinaEntry)) is None
    good = en_client.post(
        url,
        data={
            "entry_number": "53440100-2025-001",
            "url": "https://cszg.mca.gov.cn/biz/ma/csmh/a/x.html",
        },
    )
    assert good.status_code == 302
    page = en_client.get(f"/disclosures/{disclosure.id}").get_data(as_text=True)
    assert "53440100-2025-001" in page and "cszg.mca.gov.cn" in page
    [event] = [e for e in recorded_events if e.type == "disclosure.cnchina_recorded"]
    assert event.data["entry_number"] == "53440100-2025-001"
    record = dict(zip(*_csv(en_client.get(f"/orgs/{org.id}/disclosures/cnchina.csv")), strict=True))
    assert record["慈善中国编号"] == "53440100-2025-001"


def test_dashboard_api_and_exports_carry_complaints_suspensions_and_cnchina(en_client, db_session):
    org = make_org(province="广东省")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    both, only_here = _disclosure(org), _disclosure(org, period="2024")
    db_session.add(CnchinaEntry(disclosure_id=both.id, organization_id=org.id, entry_number="N1"))
    for received, status in ((date(2026, 9, 1), "received"), (date(2026, 9, 28), "in_review")):
        db_session.add(
            Complaint(
                reference=f"JB{received:%Y%m%d}-AAAAAAAA",
                check_code_hash="0" * 64,
                organization_id=org.id,
                category="other",
                body="私密内容",
                is_anonymous=False,
                complainant_name="张三丰",
                complainant_email="zsf@example.org",
                status=status,
                received_at=cst_noon(received),
                received_on=received,
                reply_due_on=date(2026, 9, 8) if received.day == 1 else date(2026, 10, 12),
            )
        )
    regulator = UserFactory(platform_role="regulator", regulator_province="广东省")
    db_session.add(
        CampaignSuspension(
            campaign_id=campaign.id,
            reason="暂停核查",
            suspended_at=cst_noon(date(2026, 9, 2)),
            suspended_by_id=regulator.id,
        )
    )
    db_session.flush()
    with time_machine.travel(cst_noon(date(2026, 10, 9)), tick=False):
        login(en_client, regulator)
        summary = en_client.get("/regulator/api/summary").get_json()
        [complaints] = summary["tables"]["complaints"]
        assert complaints == {
            "province": "广东省", "complaints": 2, "open": 2, "overdue": 1, "replied_late": 0,
        }  # fmt: skip
        [suspended] = summary["tables"]["suspensions"]
        assert suspended["campaign_id"] == campaign.id and suspended["reason"] == "暂停核查"
        [cn] = summary["tables"]["cnchina"]
        assert cn == {
            "disclosure_type": "annual_work_report",
            "published": 2,
            "on_cnchina": 1,
            "not_on_cnchina": 1,
        }
        text = json.dumps(summary, ensure_ascii=False)
        assert "张三丰" not in text and "zsf@example.org" not in text and "私密内容" not in text
        page = en_client.get("/regulator/").get_data(as_text=True)
        assert (
            'id="t-complaints"' in page
            and 'id="t-suspensions"' in page
            and 'id="t-cnchina"' in page
        )
        export = en_client.get("/regulator/export/complaints.csv")
        assert export.status_code == 200 and "张三丰" not in export.get_data(as_text=True)
        # another province's regulator sees none of it
        login(en_client, UserFactory(platform_role="regulator", regulator_province="湖南省"))
        summary = en_client.get("/regulator/api/summary").get_json()
        assert summary["tables"]["complaints"] == [] and summary["tables"]["suspensions"] == []
    assert only_here.id != both.id


def test_json_and_atom_feeds_carry_suspensions_and_complaints_without_personal_data(
    en_client, db_session
):
    org = make_org(province="广东省")
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    admin = UserFactory(platform_role="admin")
    db_session.add(
        CampaignSuspension(
            campaign_id=campaign.id,
            reason="暂停核查",
            suspended_at=cst_noon(date(2026, 9, 2)),
            suspended_by_id=admin.id,
            lifted_at=cst_noon(date(2026, 9, 9)),
            lifted_by_id=admin.id,
        )
    )
    db_session.add(
        Complaint(
            reference="JB20260901-BBBBBBBB",
            check_code_hash="0" * 64,
            organization_id=org.id,
            category="misuse_of_funds",
            body="私密内容",
            is_anonymous=False,
            complainant_name="张三丰",
            complainant_phone="13812345678",
            status="received",
            received_at=cst_noon(date(2026, 9, 1)),
            received_on=date(2026, 9, 1),
            reply_due_on=date(2026, 9, 8),
        )
    )
    db_session.flush()
    with time_machine.travel(cst_noon(date(2026, 9, 10)), tick=False):
        items = en_client.get("/compliance/feed.json").get_json()["items"]
        assert [i["type"] for i in items] == ["suspension_lifted", "suspension", "complaint"]
        assert items[2]["overdue"] is True and items[2]["category"] == "misuse_of_funds"
        atom = en_client.get("/compliance/feed.atom").get_data(as_text=True)
        assert "暂停核查" in atom and atom.count("<entry>") == 3 and "2026-09-08" in atom
    for text in (json.dumps(items, ensure_ascii=False), atom):
        assert "张三丰" not in text and "13812345678" not in text and "私密内容" not in text
