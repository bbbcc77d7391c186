"""Fund and disbursement views: four eyes via the view, permissions, evidence uploads."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import Disbursement, Fund
from charity.services import disbursements as svc
from charity.services import uploads
from charity.services.pools import Pool
from tests.support.factories import log_in
from tests.support.funds import PDF, PNG, day, gift


def _post_request(client, fund, data: bytes = PDF, name: str = "invoice.pdf", **fields):  # type: ignore[no-untyped-def]
    form = {
        "amount": "60",
        "purpose_category": "medical_supplies",
        "purpose": "口罩和消毒液",
        "beneficiary_kind": "organization",
        "beneficiary_name": "北京街道社区卫生服务中心",
        "evidence": (io.BytesIO(data), name),
        **fields,
    }
    return client.post(
        f"/disbursements/new?fund={fund.id}", data=form, content_type="multipart/form-data"
    )


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Disbursement))


def test_request_then_self_approval_refused_in_the_view(client, people, fund):
    gift(fund, 10000, day(1))
    log_in(client, people.finance)
    response = _post_request(client, fund)
    assert response.status_code == 302, response.get_data(as_text=True)
    d = db.session.scalars(sa.select(Disbursement)).one()
    page = client.get(f"/disbursements/{d.id}").get_data(as_text=True)
    assert "/approve" not in page  # no button for the requester
    response = client.post(f"/disbursements/{d.id}/approve")
    assert response.status_code == 422
    assert "own request" in response.get_data(as_text=True)
    db.session.refresh(d)
    assert d.status == "requested" and d.approved_by_id is None

    client.post("/account/logout")
    log_in(client, people.committee[0])
    assert client.post(f"/disbursements/{d.id}/approve").status_code == 302
    client.post("/account/logout")
    log_in(client, people.finance2)
    response = client.post(f"/disbursements/{d.id}/execute", data={"payment_reference": ""})
    assert response.status_code == 422
    response = client.post(f"/disbursements/{d.id}/execute", data={"payment_reference": "B-1"})
    assert response.status_code == 302
    db.session.refresh(d)
    assert d.status == "executed"


@pytest.mark.parametrize("who", ["donor", "regulator", "other_editor"])
def test_outsiders_cannot_request_or_approve(client, people, fund, who, evidence):
    gift(fund, 10000, day(1))
    command = svc.DisbursementRequest(
        Pool("fund", fund.id), 5000, "food", "食物", "organization", "食堂", evidence
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    db.session.flush()
    log_in(client, getattr(people, who))
    assert client.get(f"/disbursements/new?fund={fund.id}").status_code == 403
    assert _post_request(client, fund).status_code == 403
    assert client.post(f"/disbursements/{d.id}/approve").status_code == 403
    assert client.get(f"/disbursements/{d.id}").status_code == 404  # not public until paid
    assert client.get(f"/disbursements/{d.id}/evidence").status_code == 404
    assert client.get(f"/disbursements/org/{fund.organization_id}").status_code == 403
    db.session.refresh(d)
    assert d.status == "requested"


def test_html_disguised_as_pdf_is_refused(client, people, fund, app):
    gift(fund, 10000, day(1))
    log_in(client, people.finance)
    html = b"<!doctype html><script>alert(1)</script>"
    response = _post_request(client, fund, data=html, name="invoice.pdf")
    assert response.status_code == 400
    assert "PDF or an image" in response.get_data(as_text=True)
    assert _count() == 0
    app.config["EVIDENCE_MAX_BYTES"] = 2000
    try:
        response = _post_request(client, fund, data=PDF + b"0" * 2000)
    finally:
        del app.config["EVIDENCE_MAX_BYTES"]
    assert response.status_code == 400 and "too large" in response.get_data(as_text=True)
    assert _post_request(client, fund, data=b"").status_code == 400
    assert _count() == 0


def test_evidence_served_as_attachment_with_nosniff(client, people, fund, app):
    gift(fund, 10000, day(1))
    log_in(client, people.finance)
    assert _post_request(client, fund, data=PNG, name="photo.html").status_code == 302
    d = db.session.scalars(sa.select(Disbursement)).one()
    assert d.evidence_content_type == "image/png"
    response = client.get(f"/disbursements/{d.id}/evidence")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f'attachment; filename="evidence-{d.id}.png"'
    stored = uploads.path_for(app.config["UPLOAD_DIR"], d.evidence_sha256)
    assert stored.read_bytes() == PNG


def test_uploads_sniff_by_content():
    assert uploads.sniff(PDF) == "application/pdf"
    assert uploads.sniff(b"\xff\xd8\xff\xe0" + b"0" * 10) == "image/jpeg"
    assert uploads.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert uploads.sniff(b"GIF89a") is None
    with pytest.raises(ValueError):
        uploads.path_for("uploads", "../../etc/passwd")


def test_fund_created_through_the_view_with_field_errors(client, people):
    log_in(client, people.owner)
    url = f"/funds/new/{people.host.id}"
    lines = ["陈主任 | chair", "李委员 | member", "王委员 | member", "周监事 | supervisor"]
    form = {
        "name": f"{people.host.name}助老社区慈善基金",
        "purpose_md": "助老",
        "restriction": "仅用于助老",
        "service_area": "北京街道",
        "committee": "\n".join(lines),
        "unpaid": "y",
    }
    response = client.post(url, data=form)
    assert response.status_code == 400 and "five" in response.get_data(as_text=True)
    form["committee"] += "\n赵委员 | member"
    response = client.post(url, data={**form, "unpaid": ""})
    assert response.status_code == 400 and "unpaid" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Fund)) == 0
    response = client.post(url, data=form)
    assert response.status_code == 302
    fund = db.session.scalars(sa.select(Fund)).one()
    assert [m.role for m in fund.active_committee].count("supervisor") == 1


@pytest.mark.parametrize("who", ["finance", "donor", "regulator", "other_editor"])
def test_only_the_owner_creates_funds(client, people, who):
    log_in(client, getattr(people, who))
    assert client.get(f"/funds/new/{people.host.id}").status_code == 403


def test_transfer_view_never_overdraws(client, people, fund):
    log_in(client, people.finance)
    url = f"/funds/{fund.id}/transfer"
    data = {"direction": "to_fund", "amount": "10", "reason": "补充基金"}
    response = client.post(url, data=data)
    assert response.status_code == 400  # the host has no unrestricted money
    assert "less than" in response.get_data(as_text=True)
    gift(fund, 5000, day(1))
    response = client.post(url, data={**data, "direction": "to_host", "amount": "50.01"})
    assert response.status_code == 400
    assert (
        client.post(url, data={**data, "direction": "to_host", "amount": "20"}).status_code == 302
    )
    response = client.post(url, data={**data, "direction": "to_fund", "reason": ""})
    assert response.status_code == 400


def test_queue_and_index_link_the_staff_to_their_work(client, people, fund):
    log_in(client, people.owner)
    index = client.get("/funds/").get_data(as_text=True)
    assert f"/funds/new/{people.host.id}" in index
    queue = client.get(f"/disbursements/org/{people.host.id}").get_data(as_text=True)
    assert f"/disbursements/new?fund={fund.id}" in queue


def test_decisions_need_the_csrf_token(client, people, fund, evidence, app):
    gift(fund, 10000, day(1))
    command = svc.DisbursementRequest(
        Pool("fund", fund.id), 5000, "food", "食物", "organization", "食堂", evidence
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    db.session.commit()
    log_in(client, people.finance2)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/disbursements/{d.id}/approve").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(d)
    assert d.status == "requested"
