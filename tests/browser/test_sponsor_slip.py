"""A sponsor payment's bank slip in Chromium at 390×844, in Chinese: the demo 6·30 pool's
holder (越秀 charity) records a transfer with its slip (a forged "PDF" first, refused on
the field), then its owner, the second person, sees the slip's link next to the confirm
button, downloads it, and confirms. Screenshots of the record page and the confirm page are
saved under test-artifacts/screenshots/; neither page scrolls sideways nor squeezes its
table (each payment is a card on a phone); axe finds nothing."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from tests.browser.helpers import TABLE_PROBLEMS, log_in, overflow, screenshot
from tests.support.browser import PHONE, axe_violations, describe
from tests.support.gifts import real_pdf

FINANCE = "yuexiu-finance@demo.charity"
OWNER = "yuexiu-owner@demo.charity"


def _pool_id(live) -> int:  # type: ignore[no-untyped-def]
    from charity.demo.givingdays import EVENT_NAME
    from charity.models import GivingDay

    with live.db() as session:
        event = session.scalars(sa.select(GivingDay).where(GivingDay.name == EVENT_NAME)).one()
        return min(pool.id for pool in event.pools)


def _no_problems(page, axe_js, name: str) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page, axe_js)
    assert not violations, f"{name}:\n{describe(violations)}"
    assert overflow(page) == 0, f"{name} is wider than the phone"
    found = page.evaluate(TABLE_PROBLEMS)  # no column squeezed to a character per line
    assert not found["problems"], f"{name}: " + "\n".join(found["problems"])


def test_a_slip_is_recorded_seen_and_confirmed_on_a_phone(live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    from charity.models import SponsorPayment

    live = live_server
    pool_id = _pool_id(live)
    url = live.path("givingdays.sponsor_payments_page", pool_id=pool_id, lang="zh_Hans_CN")
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
    slip = real_pdf()

    recorder = new_context(**phone).new_page()
    log_in(recorder, live, FINANCE)
    assert recorder.goto(url).status == 200

    def fill(file: dict) -> None:  # type: ignore[type-arg]
        recorder.fill("#amount", "20000")
        recorder.fill("#received_on", "2026-12-01")
        recorder.fill("#reference", "ICBC20261201-0630")
        recorder.set_input_files("#slip", files=[file])
        with recorder.expect_navigation():
            recorder.click("form.stacked button[type=submit]")

    # a web page named like a PDF: refused on the field, in Chinese, nothing recorded
    fill({"name": "回单.pdf", "mimeType": "application/pdf", "buffer": b"<html>hi</html>"})
    error = recorder.locator("#slip-error")
    assert error.inner_text() == "银行回单须为 PDF、PNG 或 JPEG 文件。"
    _no_problems(recorder, axe_js, "the record page with an error")
    screenshot(recorder, "sponsor-slip-record-error-zh")
    fill({"name": "工商银行回单.pdf", "mimeType": "application/pdf", "buffer": slip})
    assert "等待另一人确认" in recorder.locator("main").inner_text()
    _no_problems(recorder, axe_js, "the record page")
    screenshot(recorder, "sponsor-slip-record-zh")
    with live.db() as session:
        payment = session.scalars(
            sa.select(SponsorPayment).where(SponsorPayment.pool_id == pool_id)
        ).one()
        assert payment.slip_sha256 == hashlib.sha256(slip).hexdigest()
        payment_id = payment.id

    checker = new_context(**phone).new_page()
    log_in(checker, live, OWNER)
    assert checker.goto(url).status == 200
    row = checker.locator(f"#sponsor-payment-{payment_id}")
    link = row.locator("a.sponsor-slip")
    assert link.inner_text() == "银行回单"
    confirm = row.locator("button", has_text="确认")
    assert link.is_visible() and confirm.first.is_visible()
    assert link.bounding_box()["y"] < confirm.first.bounding_box()["y"]  # read it first
    _no_problems(checker, axe_js, "the confirm page")
    screenshot(checker, "sponsor-slip-confirm-zh")
    with checker.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"sponsor-payment-{payment_id}-slip.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == slip
    with checker.expect_navigation():
        confirm.first.click()
    assert "已确认" in checker.locator(f"#sponsor-payment-{payment_id}").inner_text()
    with live.db() as session:
        assert session.get(SponsorPayment, payment_id).status == "confirmed"
