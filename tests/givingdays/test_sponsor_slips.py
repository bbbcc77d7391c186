"""A sponsor payment's bank slip (银行回单): an optional PDF/PNG/JPEG recorded with the
transfer, kept in the one upload store, shown to the second person before they confirm,
served to those who may record and confirm the pool's payments only, and named by its
SHA-256 in the public log entry of the confirmed payment. Through the pages (the test
client), with the real services, store and database."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import AuditEntry, SponsorPayment
from charity.services import givingdays
from tests.support.factories import MembershipFactory, OrganizationFactory, second_person
from tests.support.gifts import real_pdf, real_png
from tests.support.givingdays import make_day


@pytest.fixture
def pool_people(db_session):  # type: ignore[no-untyped-def]
    day = make_day()  # a 1,000-yuan pool held by another organization than the campaign's
    host = day.pool.organization

    def member(role: str, organization=host):  # type: ignore[no-untyped-def]
        return second_person(MembershipFactory(organization=organization, role=role).user)

    other_host = OrganizationFactory()
    other_pool = givingdays.create_pool(
        db.session,
        day.admin,
        givingdays.NewPool(
            event_id=day.event.id,
            organization_id=other_host.id,
            sponsor_name="另一家科技有限公司",
            total_fen=100_000,
        ),
    )
    people = {
        "recorder": member("finance"),
        "checker": member("owner"),
        "editor": member("editor"),
        "other_owner": member("owner", other_host),  # handles the other pool, not this one
        "admin": day.admin,
    }
    db.session.commit()
    return day, other_pool, people


def _page(pool_id: int) -> str:
    return f"/pools/{pool_id}/sponsor-payments"


def _slip_url(pool_id: int, payment_id: int) -> str:
    return f"{_page(pool_id)}/{payment_id}/slip"


def _record(  # type: ignore[no-untyped-def]
    client,
    pool_id: int,
    slip: bytes | None,
    name: str = "回单.pdf",
    mimetype: str = "application/pdf",
    chinese: bool = False,
    **fields,
):
    data = {
        "amount": "600",
        "received_on": today_cst().isoformat(),
        "reference": "ICBC20260630-0001",
        "note": "",
        **fields,
    }
    if slip is not None:
        data["slip"] = FileStorage(io.BytesIO(slip), filename=name, content_type=mimetype)
    query = "?lang=zh_Hans_CN" if chinese else ""
    # encoded here, in memory: the test client spools a large body to a temporary file it
    # never closes (a ResourceWarning under pytest's unraisable-exception check)
    boundary, body = encode_multipart(data)
    return client.post(
        _page(pool_id) + query,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _decide(client, pool_id: int, payment_id: int):  # type: ignore[no-untyped-def]
    return client.post(
        f"{_page(pool_id)}/decide", data={"payment_id": str(payment_id), "decision": "confirm"}
    )


def _stored_files(app) -> set[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["UPLOAD_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _payments() -> list[SponsorPayment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SponsorPayment).order_by(SponsorPayment.id)))


def _log_payload(client, payment_id: int) -> dict:  # type: ignore[type-arg]
    """The payment's public log entry, as anyone reads it on the log's page."""
    index = db.session.scalar(
        sa.select(AuditEntry.index).where(
            AuditEntry.event_type == "matching_pool.sponsor_paid",
            AuditEntry.subject_id == payment_id,
        )
    )
    assert index is not None
    html = client.get(f"/log/{index}").get_data(as_text=True)
    entry = db.session.get(AuditEntry, index)
    assert entry is not None and entry.payload in html.replace("&#34;", '"')
    return json.loads(entry.payload)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "white").save(out, format="JPEG")
    return out.getvalue()


def test_the_slip_is_stored_shown_to_the_confirmer_and_its_digest_logged(
    app, client, login, pool_people
):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    pool = day.pool
    slip = real_pdf()
    digest = hashlib.sha256(slip).hexdigest()
    login(people["recorder"])
    response = _record(client, pool.id, slip)
    assert response.status_code == 302, response.get_data(as_text=True)
    [payment] = _payments()
    assert (payment.slip_sha256, payment.slip_content_type) == (digest, "application/pdf")
    assert payment.slip_size == len(slip)
    stored = Path(app.config["UPLOAD_DIR"]) / digest[:2] / digest  # the one store's layout
    assert stored.read_bytes() == slip
    # the second person sees the link to the slip next to the confirm button, and opens it
    login(people["checker"])
    html = client.get(_page(pool.id)).get_data(as_text=True)
    link = _slip_url(pool.id, payment.id)
    assert link in html and html.index(link) < html.index('value="confirm"')
    assert digest[:16] in html and "PDF · 1 KB" in html
    download = client.get(link)
    assert download.status_code == 200 and download.data == slip
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # confirmed: the public entry names the slip by its digest, so anyone can match it
    assert _decide(client, pool.id, payment.id).status_code == 302
    assert _payments()[0].status == "confirmed"
    payload = _log_payload(client, payment.id)
    assert payload["slip_sha256"] == digest == hashlib.sha256(download.data).hexdigest()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.stdout + result.stderr


def test_a_payment_without_a_slip_still_works_and_says_so(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    login(people["recorder"])
    assert _record(client, day.pool.id, None).status_code == 302
    # a file input left empty: the browser sends a part with no file name and no bytes
    assert _record(client, day.pool.id, b"", name="", amount="100").status_code == 302
    first, second = _payments()
    assert first.slip_sha256 is None and second.slip_sha256 is None
    login(people["checker"])
    html = client.get(_page(day.pool.id)).get_data(as_text=True)
    assert "No bank slip attached" in html and "bank statement itself" in html
    assert client.get(_slip_url(day.pool.id, first.id)).status_code == 404
    _decide(client, day.pool.id, first.id)
    payload = _log_payload(client, first.id)
    assert payload["amount_fen"] == 60_000 and "slip_sha256" not in payload


@pytest.mark.parametrize(
    ("name", "mimetype", "accepted"),
    [("回单.png", "image/png", "image/png"), ("scan.JPG", "image/jpeg", "image/jpeg")],
)
def test_images_of_the_slip_are_accepted(client, login, pool_people, name, mimetype, accepted):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    data = real_png() if accepted == "image/png" else _jpeg()
    login(people["recorder"])
    assert _record(client, day.pool.id, data, name=name, mimetype=mimetype).status_code == 302
    [payment] = _payments()
    assert payment.slip_content_type == accepted
    assert client.get(_slip_url(day.pool.id, payment.id)).data == data


def _webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, format="WEBP")
    return out.getvalue()


#: The documented limit (docs/givingdays.md; ``sponsor_payments.SLIP_MAX_BYTES``).
SLIP_LIMIT = 5 * 1024 * 1024

BAD_SLIPS = {
    "empty": (b"", "回单.pdf", "The bank slip file is empty."),
    "too-big": (
        b"%PDF-1.4\n" + b"0" * SLIP_LIMIT,
        "回单.pdf",
        "The bank slip is larger than 5 MB.",
    ),
    # a page or a program named like a PDF: the content decides, not the name or the browser
    "forged-extension": (
        b"<html><script>alert(1)</script></html>",
        "回单.pdf",
        "The bank slip must be a PDF, PNG or JPEG file.",
    ),
    "zip-named-png": (b"PK\x03\x04" + b"\0" * 64, "回单.png", "must be a PDF, PNG or JPEG"),
    # the signature is forged: the rest is not a PDF
    "forged-signature": (
        b"%PDF-1.4\n<script>alert(1)</script>",
        "回单.pdf",
        "The bank slip is damaged or is not really a PDF or an image.",
    ),
    "truncated-png": (real_png()[:40], "回单.png", "is damaged"),
    # the store takes WebP for pictures; a bank slip is a PDF or a scan
    "webp": (_webp(), "回单.webp", "must be a PDF, PNG or JPEG"),
}


@pytest.mark.parametrize("case", sorted(BAD_SLIPS))
def test_a_bad_slip_is_refused_clearly_and_changes_nothing(app, client, login, pool_people, case):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    data, name, message = BAD_SLIPS[case]
    files_before = _stored_files(app)
    login(people["recorder"])
    response = _record(client, day.pool.id, data, name=name)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'id="slip-error"' in html
    assert _payments() == []
    assert _stored_files(app) == files_before


def test_a_bad_slip_is_refused_in_chinese(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    login(people["recorder"])
    html = client.get(_page(day.pool.id) + "?lang=zh_Hans_CN").get_data(as_text=True)
    assert "银行回单（可选）" in html and "SHA-256 摘要记入公开日志" in html
    response = _record(client, day.pool.id, b"GIF89a" + b"\0" * 20, chinese=True)
    assert "银行回单须为 PDF、PNG 或 JPEG 文件。" in response.get_data(as_text=True)
    assert _payments() == []


def test_only_those_who_handle_the_pool_get_the_slip(client, login, pool_people):  # type: ignore[no-untyped-def]
    day, other_pool, people = pool_people
    pool = day.pool
    login(people["recorder"])
    _record(client, pool.id, real_pdf())
    [payment] = _payments()
    link = _slip_url(pool.id, payment.id)
    for name in ("recorder", "checker", "admin"):
        login(people[name])
        assert client.get(link).status_code == 200, name
    # an editor of the holding organization, another organization's owner: refused
    for name in ("editor", "other_owner"):
        login(people[name])
        response = client.get(link)
        assert response.status_code == 403 and b"%PDF" not in response.data, name
    # nor through their own pool's URL: the payment is not that pool's
    login(people["other_owner"])
    assert client.get(_page(other_pool.id)).status_code == 200  # they handle that one
    response = client.get(_slip_url(other_pool.id, payment.id))
    assert response.status_code == 404 and b"%PDF" not in response.data
    assert client.get(_slip_url(other_pool.id, payment.id + 1000)).status_code == 404
    login(None)
    response = client.get(link)
    assert response.status_code in (302, 303) and "/account/login" in response.location


def test_the_mail_to_those_who_may_confirm_says_a_slip_is_there(
    client, login, pool_people, mail_outbox
):  # type: ignore[no-untyped-def]
    day, _other, people = pool_people
    login(people["recorder"])
    mail_outbox.clear()
    assert _record(client, day.pool.id, real_pdf()).status_code == 302
    assert _record(client, day.pool.id, None, amount="100").status_code == 302
    bodies = [m.get_body(("plain",)).get_content() for m in mail_outbox]
    with_slip = [b for b in bodies if "¥600.00" in b]
    without = [b for b in bodies if "¥100.00" in b]
    assert with_slip and without
    assert all("银行回单" in b.split("----")[0] and "bank slip" in b for b in with_slip)
    assert not any("银行回单" in b or "bank slip" in b for b in without)
