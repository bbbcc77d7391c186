"""Two-factor authentication (issue 15): TOTP enrolment through the real pyotp code,
recovery codes, the login's second step, the sessions a 2FA change ends, the roles that
must have it, codes accepted once (RFC 6238 section 5.2), and re-authentication before
sensitive actions."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.extensions import db
from charity.models import (
    FundCommitteeMember,
    Membership,
    PayoutChange,
    RecoveryCode,
    User,
    UserSession,
)
from charity.models.base import utcnow
from charity.services import two_factor
from tests.support.factories import (
    PASSWORD,
    TOTP_SECRET,
    DonationFactory,
    FundFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    enrol_two_factor,
    fresh_code,
    log_in,
)


def _enrol(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page  # the QR code of the otpauth:// address
    done = client.post("/account/2fa/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)[:400]
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_login(client, user: User):  # type: ignore[no-untyped-def]
    """Only the password step, without the test helper's enrolment."""
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return response


def _stale(user: User) -> None:
    """The person last proved who they are longer ago than REAUTH_MAX_AGE_SECONDS."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(confirmed_at=utcnow() - timedelta(seconds=601))
    )


def test_enrol_then_every_login_needs_the_second_factor(app, client, db_session):
    user = UserFactory()
    log_in(client, user)
    other = app.test_client()
    log_in(other, user)
    secret, _codes = _enrol(client)
    assert user.totp_enabled_at is not None and user.totp_secret == secret
    assert other.get("/account/").status_code == 302  # a 2FA change ends other sessions
    assert client.get("/account/").status_code == 200  # not this one
    client.post("/account/logout")
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    held = client.get("/account/")
    assert held.status_code == 302 and "/account/2fa/" in held.headers["Location"]
    assert client.get("/orgs/apply").headers["Location"].startswith("/account/2fa/")
    wrong = client.post("/account/2fa/", data={"code": "000000"})
    assert wrong.status_code == 400
    assert client.post("/account/2fa/", data={"code": fresh_code(user)}).status_code == 302
    assert client.get("/account/").status_code == 200


def test_a_recovery_code_works_once(client, db_session):
    user = UserFactory()
    log_in(client, user)
    _secret, codes = _enrol(client)
    stored = db_session.query(RecoveryCode).filter_by(user_id=user.id).all()
    assert len(stored) == 10 and all(codes[0] not in row.code_hash for row in stored)
    for attempt, expected in ((codes[0], 302), (codes[0], 400)):
        client.post("/account/logout")
        client.post("/account/login", data={"email": user.email, "password": PASSWORD})
        assert client.post("/account/2fa/", data={"code": attempt}).status_code == expected


def test_a_wrong_code_does_not_turn_it_on(client, db_session):
    user = UserFactory()
    log_in(client, user)
    client.get("/account/2fa/setup")
    assert client.post("/account/2fa/setup", data={"code": "123456"}).status_code == 400
    assert user.totp_enabled_at is None


# --- codes are accepted once (replay) ----------------------------------------------------


def test_a_code_accepted_once_is_refused_the_second_time(app, client, db_session):
    """RFC 6238 section 5.2: the verifier must not accept an OTP a second time. A code
    seen over someone's shoulder (or phished) and replayed within its 90 seconds fails."""
    user = enrol_two_factor(UserFactory())
    code = pyotp.TOTP(TOTP_SECRET).now()
    _password_login(client, user)
    assert client.post("/account/2fa/", data={"code": code}).status_code == 302
    thief = app.test_client()
    _password_login(thief, user)
    replay = thief.post("/account/2fa/", data={"code": code})
    assert replay.status_code == 400
    assert "已被使用过" in replay.get_data(as_text=True)  # (a new client: Chinese)
    assert thief.get("/account/").headers["Location"].startswith("/account/2fa/")
    # An older code of the drift window is refused too: steps only move forward.
    older = pyotp.TOTP(TOTP_SECRET).at(time.time() - 30)
    assert thief.post("/account/2fa/", data={"code": older}).status_code == 400
    # The next step's code is a new code: accepted.
    assert thief.post("/account/2fa/", data={"code": fresh_code(user)}).status_code == 302


def test_the_conditional_update_moves_the_step_forward_only(db_session):
    user = enrol_two_factor(UserFactory())
    code = pyotp.TOTP(TOTP_SECRET).now()
    assert two_factor.check_second_factor(db_session, user, code)
    step = user.totp_last_step
    assert step == int(time.time()) // 30 or step == int(time.time()) // 30 - 1
    assert not two_factor.check_second_factor(db_session, user, code)
    assert user.totp_last_step == step


def test_two_racing_requests_with_the_same_code_pass_once(app, committed_db, postgres_only):
    """Two logins with one code at the same moment, each in its own transaction on its
    own connection: the conditional UPDATE lets exactly one through (the other waits for
    the row lock, then matches no row)."""
    user = UserFactory(totp_secret=TOTP_SECRET, totp_enabled_at=utcnow())
    committed_db.commit()
    user_id = user.id
    code = pyotp.TOTP(TOTP_SECRET).now()
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def attempt() -> None:
        with app.app_context(), Session(db.engine) as session:
            account = session.get(User, user_id)
            assert account is not None
            barrier.wait()
            passed = two_factor.check_second_factor(session, account, code)
            time.sleep(0.2)  # hold the row lock while the other one tries
            session.commit()
            results.append(passed)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]


# --- required per role ----------------------------------------------------------------


def _finance_of_verified_org() -> tuple[User, int]:
    membership = MembershipFactory(role="finance", organization=OrganizationFactory())
    db.session.flush()
    return membership.user, membership.organization_id


@pytest.mark.parametrize(
    "role", ["admin", "regulator", "owner", "finance", "committee", "editor", "donor"]
)
def test_roles_that_move_or_oversee_money_are_sent_to_set_it_up(client, db_session, role):
    user = UserFactory(platform_role=role if role in ("admin", "regulator") else "donor")
    organization = OrganizationFactory()
    if role in ("owner", "finance", "editor"):
        db.session.add(Membership(user=user, organization=organization, role=role))
    if role == "committee":
        fund = FundFactory(organization=organization)
        db.session.add(FundCommitteeMember(fund=fund, name="孙委员", role="member", user=user))
    db.session.flush()
    required = role not in ("editor", "donor")
    assert two_factor.required_for(user, db.session) is required
    _password_login(client, user)
    page = client.get("/account/")
    if not required:
        assert page.status_code == 200
        return
    assert page.status_code == 302
    assert page.headers["Location"] == "/account/2fa/setup?next=/account/"
    assert client.get("/campaigns/").headers["Location"].startswith("/account/2fa/setup")
    setup = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Your role needs two-factor authentication before you can go on." in setup


def test_a_finance_member_sets_it_up_and_reaches_the_page(client, db_session):
    user, org_id = _finance_of_verified_org()
    _password_login(client, user)
    overview = f"/orgs/{org_id}/payments"
    sent = client.get(overview)
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/account/2fa/setup?next=" + overview
    # A form posted before enrolling changes nothing and leads to the setup page too.
    posted = client.post(
        f"/orgs/{org_id}/payment-account",
        data={"stripe_account_id": "acct_thief000001"},
        headers={"Referer": f"http://localhost/orgs/{org_id}/payment-account"},
    )
    assert posted.status_code == 303 and "/account/2fa/setup" in posted.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutChange)) == 0
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post(sent.headers["Location"], data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert f'href="{overview}"' in done.get_data(as_text=True)  # "Continue" goes back
    assert client.get(overview).status_code == 200


@pytest.mark.chinese
def test_the_setup_page_says_why_in_chinese_first(client, db_session):
    user, _org_id = _finance_of_verified_org()
    _password_login(client, user)
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    assert "您的角色需要先开启双重验证" in page
    assert "Your role needs" not in page


def test_a_required_role_cannot_turn_it_off(client, db_session):
    user, _org_id = _finance_of_verified_org()
    log_in(client, user)
    assert "Turn off two-factor authentication" not in client.get("/account/").get_data(
        as_text=True
    )
    turned = client.post("/account/2fa/disable")
    assert turned.status_code == 303
    assert user.totp_enabled_at is not None


def test_a_donor_turns_it_off_after_a_fresh_code(client, db_session):
    user = enrol_two_factor(UserFactory())
    log_in(client, user)
    _stale(user)
    asked = client.post("/account/2fa/disable", headers={"Referer": "http://localhost/account/"})
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/account/2fa/confirm?next=/account/"
    assert user.totp_enabled_at is not None
    back = client.post(asked.headers["Location"], data={"code": fresh_code(user)})
    assert back.headers["Location"] == "/account/"
    assert client.post("/account/2fa/disable").status_code == 303
    db.session.refresh(user)
    assert user.totp_enabled_at is None and user.totp_secret is None


# --- re-authentication before sensitive actions ----------------------------------------


def test_the_payout_account_form_needs_a_fresh_code(client, db_session):
    owner = MembershipFactory(role="owner").user
    org_id = owner.memberships[0].organization_id
    log_in(client, owner)
    form = f"/orgs/{org_id}/payment-account"
    assert client.get(form).status_code == 200  # just logged in: confirmed
    _stale(owner)
    sent = client.get(form)
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/account/2fa/confirm?next=" + form
    posted = client.post(form, data={"stripe_account_id": "acct_new0000001"})
    assert posted.status_code == 303 and "/account/2fa/confirm" in posted.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutChange)) == 0
    confirm = client.get(sent.headers["Location"])
    assert confirm.status_code == 200
    used = pyotp.TOTP(TOTP_SECRET).at(owner.totp_last_step * 30)
    assert client.post(sent.headers["Location"], data={"code": used}).status_code == 400
    back = client.post(sent.headers["Location"], data={"code": fresh_code(owner)})
    assert back.status_code == 303 and back.headers["Location"] == form
    assert client.get(form).status_code == 200


def test_changing_a_role_needs_a_fresh_code(client, db_session):
    """Who may move money is a sensitive action (issue 15: re-authentication for roles)."""
    owner = MembershipFactory(role="owner").user
    organization = owner.memberships[0].organization
    member = MembershipFactory(organization=organization, role="editor")
    log_in(client, owner)
    _stale(owner)
    db.session.commit()
    members = f"/orgs/{organization.id}/members"
    for action, data in (("role", {"role": "finance"}), ("remove", {})):
        url = f"/orgs/{organization.id}/members/{member.id}/{action}"
        sent = client.post(url, data=data, headers={"Referer": "http://localhost" + members})
        assert sent.status_code == 303
        assert sent.headers["Location"] == "/account/2fa/confirm?next=" + members
    db.session.refresh(member)
    assert member.role == "editor"


def test_the_refund_form_needs_a_fresh_code(client, db_session):
    """Money going back out (issue 15: re-authentication for refunds)."""
    finance = MembershipFactory(role="finance").user
    organization = finance.memberships[0].organization
    donation = DonationFactory(campaign__organization=organization, status="succeeded")
    log_in(client, finance)
    form = f"/orgs/{organization.id}/donations/{donation.id}/refund"
    assert client.get(form).status_code == 200  # just logged in: confirmed
    _stale(finance)
    db.session.commit()
    sent = client.get(form)
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/account/2fa/confirm?next=" + form
    posted = client.post(form, data={"amount": "1.00", "reason": "捐赠人要求退款"})
    assert posted.status_code == 303 and "/account/2fa/confirm" in posted.headers["Location"]


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/%09/evil.example", "https://evil.example/", "/\\evil.example"]
)
def test_the_confirmation_returns_only_to_this_site(client, db_session, target):
    user = enrol_two_factor(UserFactory())
    log_in(client, user)
    back = client.post("/account/2fa/confirm?next=" + target, data={"code": fresh_code(user)})
    assert back.status_code == 303 and back.headers["Location"] == "/account/"


def test_without_two_factor_the_password_confirms(client, db_session):
    user = UserFactory()
    log_in(client, user)
    page = client.get("/account/2fa/confirm").get_data(as_text=True)
    assert 'type="password"' in page
    assert client.post("/account/2fa/confirm", data={"code": "wrong"}).status_code == 400
    assert client.post("/account/2fa/confirm", data={"code": PASSWORD}).status_code == 303
    row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.confirmed_at is not None


def test_changing_the_password_needs_a_fresh_code(client, db_session):
    user = enrol_two_factor(UserFactory())
    log_in(client, user)
    _stale(user)
    sent = client.get("/account/password")
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/account/2fa/confirm")


def test_approving_a_payout_change_needs_a_fresh_code(client, db_session):
    from charity.services import payout_changes
    from tests.support.factories import second_person

    organization = OrganizationFactory()
    owner = MembershipFactory(role="owner", organization=organization).user
    finance = second_person(
        MembershipFactory(role="finance", organization=organization).user, days=30
    )
    change = payout_changes.request_stripe_change(
        db.session, owner, organization, "acct_newaccount01"
    )
    db.session.commit()
    log_in(client, finance)
    _stale(finance)
    url = f"/orgs/{organization.id}/payments/changes/{change.id}/approve"
    overview = f"/orgs/{organization.id}/payments"
    asked = client.post(url, headers={"Referer": f"http://localhost{overview}"})
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/account/2fa/confirm?next=" + overview
    db.session.refresh(change)
    assert change.status == "pending"
    client.post(asked.headers["Location"], data={"code": fresh_code(finance)})
    assert client.post(url).status_code == 303
    db.session.refresh(change)
    assert change.status != "pending"


def test_wrong_codes_are_limited_per_account(limited_app, db_session):
    """10**6 codes, three valid at a time: a few wrong guesses, then 429 for the account
    (RATELIMIT_SECOND_FACTOR), whichever session or address guesses."""
    user = enrol_two_factor(UserFactory())
    limited = limited_app(RATELIMIT_SECOND_FACTOR="3 per minute")
    client = limited.test_client()
    client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    for _ in range(3):
        assert client.post("/account/2fa/", data={"code": "000000"}).status_code == 400
    refused = client.post("/account/2fa/", data={"code": fresh_code(user)})
    assert refused.status_code == 429
    other = limited.test_client()
    other.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.99"},
    )
    assert (
        other.post(
            "/account/2fa/", data={"code": "000000"}, environ_base={"REMOTE_ADDR": "203.0.113.99"}
        ).status_code
        == 429
    )
