"""Jobs: in-process by default, through RQ on the real local Redis when REDIS_URL is set."""

from __future__ import annotations

import uuid

import pytest
from rq import Queue, SimpleWorker

from charity.core.uow import commit
from charity.ops import jobs
from charity.ops.mail import MAIL_DISPATCH_KEY, Mail, queue_mail
from tests.ops import jobfuncs
from tests.support.ops import free_port


def _queue(application) -> Queue:
    return Queue(application.config["JOBS_QUEUE"], connection=jobs.redis_connection(application))


def _work(application) -> None:
    with application.app_context():
        SimpleWorker([_queue(application)], connection=jobs.redis_connection(application)).work(
            burst=True
        )


# --- in-process (the embedded default) ---------------------------------------------


def test_without_redis_a_job_runs_at_once(app):
    jobfuncs.calls.clear()
    with app.app_context():
        assert jobs.enqueue("tests.ops.jobfuncs.record", "now") is None
    assert jobfuncs.calls == ["now"]


def test_inline_retry_tries_again_until_success(app):
    name = uuid.uuid4().hex
    with app.app_context():
        jobs.enqueue("tests.ops.jobfuncs.flaky_inline", name, 2, retry=jobs.Retry(attempts=3))
    assert jobfuncs.attempts[name] == 3


def test_inline_retry_gives_up_after_its_attempts(app):
    name = uuid.uuid4().hex
    with app.app_context(), pytest.raises(RuntimeError, match="flaky attempt 2"):
        jobs.enqueue("tests.ops.jobfuncs.flaky_inline", name, 5, retry=jobs.Retry(attempts=2))
    assert jobfuncs.attempts[name] == 2


def test_mail_is_sent_inline_after_commit_without_a_queue(app, db_session, mail_outbox):
    with app.test_request_context():
        assert MAIL_DISPATCH_KEY not in app.extensions
        queue_mail(Mail("donor@example.com", "Thank you", "Your receipt"))
        assert mail_outbox == []
        commit()
    assert [m["To"] for m in mail_outbox] == ["donor@example.com"]


def test_worker_command_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


# --- RQ on Redis ---------------------------------------------------------------------


def test_mail_goes_through_the_queue_and_a_worker_sends_it(rq_app, mail_outbox):
    with rq_app.test_request_context():
        queue_mail(Mail("donor@example.com", "Thank you", "Your receipt"))
        commit()
    assert mail_outbox == []  # not sent by the request
    assert _queue(rq_app).count == 1
    _work(rq_app)
    assert [m["Subject"] for m in mail_outbox] == ["Thank you"]
    assert _queue(rq_app).count == 0


def test_queue_depth_is_a_metric(rq_app):
    with rq_app.app_context():
        jobs.enqueue("tests.ops.jobfuncs.record", "a")
        jobs.enqueue("tests.ops.jobfuncs.record", "b")
    body = rq_app.test_client().get("/metrics").get_data(as_text=True)
    name = rq_app.config["JOBS_QUEUE"]
    assert f'charity_job_queue_depth{{queue="{name}"}} 2.0' in body


def test_rq_retries_a_failing_job_until_it_succeeds(rq_app):
    key = f"charity-test-flaky-{uuid.uuid4().hex}"
    with rq_app.app_context():
        job_id = jobs.enqueue(
            "tests.ops.jobfuncs.flaky", key, 1, retry=jobs.Retry(attempts=3, intervals=(0,))
        )
    _work(rq_app)
    job = _queue(rq_app).fetch_job(job_id)
    assert job.get_status() == "finished"
    assert job.return_value() == 2
    jobs.redis_connection(rq_app).delete(key)


def test_a_job_that_keeps_failing_lands_in_the_failed_registry(rq_app):
    with rq_app.app_context():
        jobs.enqueue(
            "tests.ops.jobfuncs.always_fails", retry=jobs.Retry(attempts=2, intervals=(0,))
        )
    _work(rq_app)
    assert _queue(rq_app).failed_job_registry.count == 1
    body = rq_app.test_client().get("/metrics").get_data(as_text=True)
    assert f'charity_job_queue_failed{{queue="{rq_app.config["JOBS_QUEUE"]}"}} 1.0' in body


def test_flask_jobs_worker_runs_a_job_in_a_forked_work_horse(rq_app, tmp_path):
    marker = tmp_path / "ran"
    with rq_app.app_context():
        jobs.enqueue("tests.ops.jobfuncs.write_marker", str(marker))
        result = rq_app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert marker.read_text() == f"{rq_app.config['JOBS_QUEUE']} 0"


def test_mail_is_sent_inline_when_redis_is_down(make_app, mail_outbox):
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", HEALTH_TIMEOUT_SECONDS=0.5)
    with down.test_request_context():
        queue_mail(Mail("donor@example.com", "Receipt", "Body"))
        commit()
    assert [m["Subject"] for m in mail_outbox] == ["Receipt"]


def test_receipt_mail_is_a_job_the_worker_renders_and_sends(
    rq_app, committed_db, mail_outbox, monkeypatch
):
    """A confirmation's request only enqueues its receipt; a worker renders the PDF (about
    a second of CPU) and sends it, in the locale of that request, linking the public
    address (PUBLIC_BASE_URL, never the request's host name)."""
    from charity.extensions import db
    from charity.ops import receipt_mail
    from tests.support.factories import CampaignFactory, GiftFactory

    with rq_app.app_context():
        campaign = CampaignFactory()
        gift = GiftFactory(
            campaign=campaign, amount_fen=8800, donor_email="donor@example.org",
            donor_name="王五", public_token="tok-receipt-job",
            receipt_number=f"{campaign.organization.uscc[8:17]}-2026-000001",
        )  # fmt: skip
        db.session.commit()
        monkeypatch.setitem(rq_app.config, "PUBLIC_BASE_URL", "https://giving.example.org")
        with rq_app.test_request_context("/", base_url="http://evil.example"):
            receipt_mail.queue_receipts([gift.id])
    assert mail_outbox == []  # the request did not render or send it
    assert _queue(rq_app).count == 1

    _work(rq_app)

    [mail] = mail_outbox
    assert mail["To"] == "donor@example.org"
    body = mail.get_body(("plain",)).get_content()
    assert "https://giving.example.org/donations/tok-receipt-job" in body
    assert "evil.example" not in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename().endswith("-2026-000001.pdf")
    assert attachment.get_content().startswith(b"%PDF")


def test_receipt_links_use_the_public_address_when_configured(
    app, db_session, mail_outbox, monkeypatch
):
    """Stripe may post webhooks to another host name; receipts link the public site."""
    from charity.ops import receipt_mail
    from tests.support.factories import CampaignFactory, GiftFactory

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://giving.example.org")
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", False)
    campaign = CampaignFactory()
    gift = GiftFactory(
        campaign=campaign, amount_fen=100, donor_email="d@example.org", donor_name="王五",
        public_token="tok-public-base",
    )  # fmt: skip
    with app.test_request_context("/stripe/webhook", base_url="http://hooks.internal:8000"):
        receipt_mail.queue_receipts([gift.id])  # no Redis here: the job runs at once
    [mail] = mail_outbox
    body = mail.get_body(("plain",)).get_content()
    assert "https://giving.example.org/donations/tok-public-base" in body
    assert "hooks.internal" not in body
