"""Publishing over HTTP: permissions, attachments checked by content, immutability,
corrections with diffs, the public pages and the compliance feed."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from charity.core import events
from charity.extensions import db
from charity.models.disclosure import Disclosure, DisclosureVersion, ImmutableRecordError
from charity.services import disclosures as service
from charity.services import ledger
from tests.support.compliance import (
    BASIC_INFO,
    cst_noon,
    login,
    make_campaign,
    make_org,
    make_pdf,
    member,
)
from tests.support.factories import GiftFactory, UserFactory


def basic_form(**extra):  # type: ignore[no-untyped-def]
    return {
        "type": "basic_info",
        "subject": "org",
        "period": "registration",
        "title": "基本信息",
        "body_md": "**章程**全文见附件。",
        **BASIC_INFO,
        **extra,
    }


def post_new(client, org, data, files=()):  # type: ignore[no-untyped-def]
    import io

    payload = dict(data)
    if files:
        payload["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        f"/orgs/{org.id}/disclosures/new", data=payload, content_type="multipart/form-data"
    )


@pytest.fixture
def captured():  # type: ignore[no-untyped-def]
    seen: list[events.Event] = []

    def handler(session, event):  # type: ignore[no-untyped-def]
        seen.append(event)

    events.subscribe(handler)
    yield seen
    events.unsubscribe(handler)


def test_owner_publishes_with_a_pdf_and_the_event_carries_its_hash(en_client, org, owner, captured):
    login(en_client, owner)
    pdf = make_pdf()
    response = post_new(en_client, org, basic_form(), files=[("章程.pdf", pdf)])
    assert response.status_code == 302, response.get_data(as_text=True)
    disclosure = db.session.query(Disclosure).one()
    version = disclosure.versions[0]
    sha = hashlib.sha256(pdf).hexdigest()
    assert [a.sha256 for a in version.attachments] == [sha]
    published = [e for e in captured if e.type == "disclosure.published"]
    assert len(published) == 1
    data = published[0].data
    assert data["attachment_sha256"] == [sha]
    assert data["org_uscc"] == org.uscc and data["content_hash"] == version.content_hash
    assert events.build_payload(db.session, "disclosure.published", version.id) == data

    page = en_client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "<strong>章程</strong>" in page.get_data(as_text=True)
    served = en_client.get(f"/disclosures/files/{sha}.pdf")
    assert served.get_data() == pdf
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "not a PDF (it is a PNG image)"),
        (HTML, "not a PDF (it is an HTML or XML document)"),
        (b"%PDF-1.4\nnothing else", "damaged"),
        (b"", "empty"),
    ],
)
def test_fake_pdfs_are_refused_with_a_clear_error(en_client, org, owner, content, message):
    login(en_client, owner)
    response = post_new(en_client, org, basic_form(), files=[("report.pdf", content)])
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(Disclosure).count() == 0


def test_oversized_pdf_is_refused(english):
    big = make_pdf()
    big = big[:9] + b"%" + b"x" * (service.MAX_ATTACHMENT_BYTES) + b"\n" + big[9:]
    with pytest.raises(service.DisclosureError, match="larger than 10 MB"):
        service.check_pdf(big)


def test_pdf_with_a_wrong_xref_offset_is_refused(english):
    pdf = make_pdf()
    broken = pdf.replace(b"startxref\n", b"startxref\n9").rstrip()
    with pytest.raises(service.DisclosureError, match="damaged"):
        service.check_pdf(broken)


def test_missing_required_field_is_a_field_error(en_client, org, owner):
    login(en_client, owner)
    response = post_new(en_client, org, {**basic_form(), "board": ""})
    assert response.status_code == 422
    assert 'id="board-error"' in response.get_data(as_text=True)
    assert db.session.query(Disclosure).count() == 0


def test_regulator_cannot_publish(client, org):
    regulator = UserFactory(platform_role="regulator")
    login(client, regulator)
    assert client.get(f"/orgs/{org.id}/disclosures/new?type=basic_info").status_code == 403
    assert post_new(client, org, basic_form()).status_code == 403


def test_editor_of_org_a_cannot_publish_for_org_b(client, org):
    other = make_org()
    editor = member(org, "editor")
    login(client, editor)
    assert post_new(client, other, basic_form()).status_code == 403
    command = service.PublishDisclosure(
        other.id, "basic_info", "org", "registration", "t", "", BASIC_INFO
    )
    with pytest.raises(service.PublishDeniedError):
        service.publish_disclosure(db.session, editor, command, "/nonexistent")
    assert post_new(client, org, basic_form()).status_code == 302


def test_finance_publishes_financial_types_only(org):
    finance = member(org, "finance")
    assert service.can_publish(finance, org.id, "annual_financial_report")
    assert service.can_publish(finance, org.id, "major_transactions")
    assert not service.can_publish(finance, org.id, "basic_info")
    assert not service.can_publish(finance, org.id, "campaign_result")


def _publish_basic(app, owner, org):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        org.id, "basic_info", "org", "registration", "基本信息", "第一版", BASIC_INFO
    )
    return service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])


def test_published_versions_are_immutable(app, org, owner):
    version = _publish_basic(app, owner, org)
    with pytest.raises(ImmutableRecordError), db.session.begin_nested():
        version.title = "悄悄修改"
    with pytest.raises(ImmutableRecordError), db.session.begin_nested():
        db.session.delete(version)
    assert db.session.get(DisclosureVersion, version.id).title == "基本信息"


def test_publishing_twice_needs_a_correction(app, org, owner, english):
    _publish_basic(app, owner, org)
    with pytest.raises(service.DisclosureError, match="correction"):
        _publish_basic(app, owner, org)


def test_the_database_requires_a_correction_note(app, org, owner):
    version = _publish_basic(app, owner, org)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text(
                "INSERT INTO disclosure_versions (disclosure_id, version, title, body_md, "
                "fields_json, correction_note, content_hash, published_at) VALUES "
                "(:d, 2, 't', '', '{}', '', 'x', :at)"
            ),
            {"d": version.disclosure_id, "at": version.published_at.replace(tzinfo=None)},
        )


def test_correction_is_a_new_version_with_a_readable_diff(en_client, app, org, owner, captured):
    first = _publish_basic(app, owner, org)
    login(en_client, owner)
    url = f"/disclosures/{first.disclosure_id}/correct"
    form = {"title": "基本信息", "body_md": "第二版", **BASIC_INFO, "board": "张三、赵六"}
    refused = en_client.post(url, data={**form, "correction_note": ""})
    assert refused.status_code == 422
    response = en_client.post(url, data={**form, "correction_note": "理事变更"})
    assert response.status_code == 302
    disclosure = db.session.get(Disclosure, first.disclosure_id)
    assert [v.version for v in disclosure.versions] == [1, 2]
    assert disclosure.versions[0].body_md == "第一版"  # unchanged
    assert [e.type for e in captured][-1] == "disclosure.corrected"

    diff = en_client.get(f"/disclosures/{disclosure.id}/diff/2").get_data(as_text=True)
    assert "<del>" in diff and "<ins>" in diff
    assert 'removed: </span><span aria-hidden="true">− </span>Board members: 张三、李四' in diff
    assert 'added: </span><span aria-hidden="true">+ </span>Board members: 张三、赵六' in diff
    assert "理事变更" in diff
    old = en_client.get(f"/disclosures/{disclosure.id}?v=1").get_data(as_text=True)
    assert "This is an earlier version." in old and "张三、李四" in old


def test_public_page_flags_figures_that_differ_from_the_platform(en_client, app, org, owner):
    campaign = make_campaign(org, date(2025, 1, 1), date(2025, 3, 31))
    gift = GiftFactory(
        campaign=campaign,
        amount_fen=50_000,
        status="succeeded",
        succeeded_at=cst_noon(date(2025, 2, 1)),
    )
    ledger.post_donation(db.session, gift)  # the money moved: the ledger knows it
    fields = {
        "raised_fen": 60_000,
        "refunded_fen": 0,
        "gift_count": 1,
        "in_kind_fen": 0,
        "spent_fen": 0,
        "balance_fen": 60_000,
        "implementation": "完成",
    }
    command = service.PublishDisclosure(
        org.id, "campaign_result", f"campaign:{campaign.id}", "result", "结果", "", fields
    )
    version = service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])
    page = en_client.get(f"/disclosures/{version.disclosure_id}").get_data(as_text=True)
    assert "differ from the platform" in page
    assert "+¥100.00" in page  # published ¥600, platform ¥500


def test_new_campaign_disclosure_form_is_prefilled(en_client, org, owner):
    campaign = make_campaign(org, date(2025, 1, 1), date(2025, 3, 31))
    gift = GiftFactory(
        campaign=campaign,
        amount_fen=12_345,
        status="succeeded",
        succeeded_at=cst_noon(date(2025, 2, 1)),
    )
    ledger.post_donation(db.session, gift)  # the money moved: the ledger knows it
    login(en_client, owner)
    page = en_client.get(
        f"/orgs/{org.id}/disclosures/new?type=campaign_result"
        f"&subject=campaign:{campaign.id}&period=result"
    )
    assert page.status_code == 200
    assert 'value="123.45"' in page.get_data(as_text=True)


def test_obligations_page_and_feed_show_late_filings_and_corrections(en_client, app, owner):
    import time_machine

    org = owner.memberships[0].organization
    with time_machine.travel(cst_noon(date(2025, 3, 1)), tick=True):
        first = _publish_basic(app, owner, org)  # due 2025-02-09: late
        service.correct_disclosure(
            db.session,
            owner,
            service.CorrectDisclosure(first.disclosure_id, "基本信息", "", BASIC_INFO, "更正电话"),
            app.config["UPLOAD_DIR"],
        )
        page = en_client.get(f"/orgs/{org.id}/obligations?lang=en").get_data(as_text=True)
    assert "badge-late" in page and "Published late" in page
    feed = en_client.get("/compliance/feed.json").get_json()["items"]
    assert [item["type"] for item in feed] == ["correction", "late_filing"]
    assert feed[1]["due_date"] == "2025-02-10" and feed[1]["published_on"] == "2025-03-01"
    atom = en_client.get("/compliance/feed.atom")
    assert atom.mimetype == "application/atom+xml"
    assert "更正电话" in atom.get_data(as_text=True)


def test_only_members_of_the_publishing_org_may_correct(client, app, org, owner):
    first = _publish_basic(app, owner, org)
    url = f"/disclosures/{first.disclosure_id}/correct"
    assert client.get(url).status_code == 302  # anonymous: log in first
    login(client, member(make_org(), "owner"))  # owner elsewhere
    assert (
        client.post(url, data={"title": "x", "correction_note": "y", **BASIC_INFO}).status_code
        == 403
    )
    login(client, member(org, "finance"))  # basic information is not a financial type
    assert client.get(url).status_code == 403
    login(client, member(org, "editor"))
    assert client.get(url).status_code == 200
    assert len(db.session.get(Disclosure, first.disclosure_id).versions) == 1


def test_publish_form_rejects_a_missing_csrf_token(client, app, org, owner, monkeypatch):
    import re

    login(client, owner)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post_new(client, org, basic_form()).status_code in (400, 422)
    assert db.session.query(Disclosure).count() == 0
    page = client.get(f"/orgs/{org.id}/disclosures/new?type=basic_info&period=registration")
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    response = post_new(client, org, {**basic_form(), "csrf_token": token.group(1)})
    assert response.status_code == 302
