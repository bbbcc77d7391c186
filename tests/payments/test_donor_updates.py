"""Donors hear back (issue 17 point 10): donors who opted in (at giving, default off, or on
我的捐赠) get one digest a day at most about the campaigns they gave to — an update, the
published result, a suspension — in their language, with an RFC 8058 one-click unsubscribe
that works without login; guests included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine
from flask import current_app

from charity.extensions import db
from charity.models import UpdateSubscription
from charity.services import campaigns as campaign_service
from charity.services import disclosures, donor_updates, suspensions
from tests.support.compliance import CAMPAIGN_FIGURES
from tests.support.factories import DonationFactory, MembershipFactory, UserFactory, log_in
from tests.support.pages import problems_in_text
from tests.support.payments import give, pay

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def _digests(now: datetime) -> list:
    """What ``flask campaigns digest`` does, in the request context it makes."""
    sent: list = []
    with current_app.test_request_context("/"):
        donor_updates.send_due_digests(db.session, now, sent.append)
    return sent


def _post_update(campaign, title: str) -> None:  # type: ignore[no-untyped-def]
    owner = MembershipFactory(organization=campaign.organization, role="owner").user
    campaign_service.post_update(
        db.session, owner, campaign, campaign_service.UpdatePost(title, "正文")
    )


def _gift(campaign, email: str, language: str = "zh_Hans_CN"):  # type: ignore[no-untyped-def]
    DonationFactory(campaign=campaign, status="succeeded", donor_email=email)
    donor_updates.opt_in(db.session, email, language, now=NOW - timedelta(days=1))


def test_the_box_on_the_giving_form_is_off_by_default_and_opts_in(client, campaign):
    html = client.get(f"/campaigns/{campaign.id}/donate").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="wants_updates"[^>]*>', html).group(0)
    assert "checked" not in box
    give(client, campaign, donor_email="quiet@example.org")
    assert not donor_updates.is_subscribed(db.session, "quiet@example.org")
    donation = give(client, campaign, wants_updates="y")
    assert pay(client, donation).json["status"] == "succeeded"
    assert donor_updates.is_subscribed(db.session, "donor@example.org")  # a guest, by e-mail


def test_an_update_a_result_and_a_suspension_make_one_digest_a_day(app, campaign):
    _gift(campaign, "guest@example.org")
    DonationFactory(campaign=campaign, status="succeeded", donor_email="silent@example.org")
    with time_machine.travel(NOW, tick=False):
        _post_update(campaign, "第一批午餐已送达")
        owner = MembershipFactory(organization=campaign.organization, role="owner").user
        disclosures.publish_disclosure(
            db.session, owner,
            disclosures.PublishDisclosure(
                campaign.organization_id, "campaign_result", f"campaign:{campaign.id}", "result",
                "项目结果公示", "", {**CAMPAIGN_FIGURES, "implementation": "完成"}, (),
            ),
            app.config["UPLOAD_DIR"],
        )  # fmt: skip
        suspensions.suspend_campaign(
            db.session, UserFactory(platform_role="admin"), campaign, "核查中"
        )
        db.session.flush()
    [mail] = _digests(NOW + timedelta(minutes=5))  # the silent donor did not opt in
    assert mail.to == "guest@example.org"
    assert "第一批午餐已送达" in mail.body and "项目结果公示" in mail.body
    assert "暂停" in mail.body and campaign.title in mail.body
    assert not problems_in_text(mail.subject + "\n" + mail.body.split("http")[0])
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        _post_update(campaign, "第二批")
        db.session.flush()
    assert _digests(NOW + timedelta(hours=2)) == []  # the same day (Beijing): nothing more
    [next_day] = _digests(NOW + timedelta(days=1))
    assert "第二批" in next_day.body and "第一批午餐已送达" not in next_day.body


def test_english_donors_get_english_and_one_click_unsubscribes_without_login(app, client, campaign):
    _gift(campaign, "en@example.org", language="en")
    with time_machine.travel(NOW, tick=False):
        _post_update(campaign, "Lunches delivered")
        db.session.flush()
    [mail] = _digests(NOW + timedelta(minutes=1))
    assert mail.subject == "News of the campaigns you gave to"
    headers = dict(mail.headers)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://[^>]+)>", headers["List-Unsubscribe"]).group(1)
    assert url in mail.body
    path = "/" + url.split("/", 3)[3]
    page = client.get(path)
    assert page.status_code == 200 and donor_updates.is_subscribed(db.session, "en@example.org")
    app.config["WTF_CSRF_ENABLED"] = True  # the mail client's POST carries no CSRF token
    try:
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
    assert not donor_updates.is_subscribed(db.session, "en@example.org")
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        _post_update(campaign, "More news")
        db.session.flush()
    assert _digests(NOW + timedelta(days=2)) == []
    assert client.get(path[:-3] + "xyz").status_code == 404  # a forged token


def test_the_setting_on_my_gifts_opts_an_account_in_and_out(client, campaign):
    user = UserFactory(email="member@example.org")
    DonationFactory(campaign=campaign, status="succeeded", donor_user=user, donor_email="old@x.org")
    log_in(client, user)
    assert 'name="wants_news"' in client.get("/account/gifts").get_data(as_text=True)
    client.post("/account/gifts/news", data={"wants_news": "y"})
    row = db.session.get(UpdateSubscription, "member@example.org")
    assert row is not None and row.active
    row.notices_since = NOW - timedelta(days=1)
    with time_machine.travel(NOW, tick=False):
        _post_update(campaign, "进展")
        db.session.flush()
    [mail] = _digests(NOW + timedelta(minutes=1))  # found by the account, not the gift's e-mail
    assert mail.to == "member@example.org"
    client.post("/account/gifts/news", data={})
    assert not donor_updates.is_subscribed(db.session, "member@example.org")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UpdateSubscription)) == 1
