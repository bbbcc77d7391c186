"""An organization's own merchant accounts: entered by an owner after a fresh two-factor
confirmation (``require_reauth``, issue 15), sealed at rest, never shown again, logged
publicly (without secrets), mailed to the owners and finance members."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from charity.extensions import db
from charity.models import AuditEntry, Membership, MerchantAccount, PayoutChange, UserSession
from charity.models.base import utcnow
from charity.payments import vault
from charity.services import payout_changes
from tests.support.factories import UserFactory, fresh_code
from tests.support.payments import form_values


def _people(organization):  # type: ignore[no-untyped-def]
    owner, finance, editor = UserFactory(), UserFactory(), UserFactory()
    for user, role in ((owner, "owner"), (finance, "finance"), (editor, "editor")):
        db.session.add(Membership(user=user, organization=organization, role=role))
    db.session.commit()
    return owner, finance, editor


def test_owner_connects_wechatpay_after_a_fresh_confirmation(
    client, login, wallet_app, db_session, sim_credentials, mail_outbox
):
    from tests.support.factories import CampaignFactory

    campaign = CampaignFactory()
    organization = campaign.organization
    owner, finance, editor = _people(organization)
    url = f"/orgs/{organization.id}/payments/wechatpay"
    values = form_values("wechatpay", sim_credentials["wechatpay"])

    login(editor)
    assert client.get(url).status_code == 403
    login(owner)
    # A confirmation older than REAUTH_MAX_AGE_SECONDS sends the owner to confirm first.
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == owner.id)
        .values(confirmed_at=utcnow() - timedelta(minutes=11))
    )
    stale = client.post(url, data=values, headers={"Referer": f"http://localhost{url}"})
    assert stale.status_code == 303
    assert stale.headers["Location"].startswith("/account/2fa/confirm?next=")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutChange)) == 0
    wrong = client.post(stale.headers["Location"], data={"code": "000000"})
    assert wrong.status_code == 400
    back = client.post(stale.headers["Location"], data={"code": fresh_code(owner)})
    assert back.status_code == 303 and back.headers["Location"] == url
    assert client.get(url).status_code == 200

    bad_key = client.post(url, data={**values, "private_key": "nonsense"})
    assert bad_key.status_code == 400
    assert "not an RSA private key" in bad_key.get_data(as_text=True)

    saved = client.post(url, data=values)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    # A payout change waits (issue 15 finding 12); everyone was told at once.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantAccount)) == 0
    told = sorted(message["To"] for message in mail_outbox)
    assert told == sorted([owner.email, finance.email])
    assert values["apiv3_key"] not in mail_outbox[0].get_content()
    (change,) = payout_changes.pending_changes(db.session, organization.id)
    assert values["apiv3_key"] not in json.dumps([change.settings_json, change.secrets_token])
    payout_changes.apply_due_changes(db.session, now=change.effective_at)
    account = db.session.scalars(sa.select(MerchantAccount)).one()
    assert account.public_id == values["mchid"]
    # Sealed at rest: no secret appears in the row; the vault opens them again.
    row_text = json.dumps([account.settings_json, account.secrets_token])
    assert values["apiv3_key"] not in row_text and "PRIVATE KEY" not in row_text
    assert vault.unseal(account.secrets_token)["apiv3_key"] == values["apiv3_key"]
    # Never shown again: the form starts empty.
    again = client.get(url).get_data(as_text=True)
    assert values["apiv3_key"] not in again and "BEGIN PRIVATE KEY" not in again
    assert values["mchid"] in again  # the account id itself is not secret

    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.index.desc())).first()
    payload = json.loads(entry.payload)
    assert payload["type"] == "organization.merchant_account_set"
    assert (payload["provider"], payload["account"]) == ("wechatpay", values["mchid"])
    assert values["apiv3_key"] not in entry.payload and "PRIVATE" not in entry.payload

    assert values["mchid"] in mail_outbox[0].get_content()

    overview = client.get(f"/orgs/{organization.id}/payments").get_data(as_text=True)
    assert values["mchid"] in overview and "platform certificates" in overview


def test_finance_sees_the_overview_but_cannot_change_accounts(
    client, login, wallet_app, db_session
):
    from tests.support.factories import CampaignFactory

    organization = CampaignFactory().organization
    _owner, finance, _editor = _people(organization)
    login(finance)
    assert client.get(f"/orgs/{organization.id}/payments").status_code == 200
    assert client.get(f"/orgs/{organization.id}/payments/alipay").status_code == 403


def test_an_account_belongs_to_one_organization(wallet_app, db_session, sim_credentials):
    import pytest

    from charity.services import merchant_accounts
    from tests.support.factories import CampaignFactory
    from tests.support.payments import connect

    connect(CampaignFactory().organization, "alipay", sim_credentials["alipay"])
    with pytest.raises(merchant_accounts.MerchantAccountError, match="another organization"):
        connect(CampaignFactory().organization, "alipay", sim_credentials["alipay"])


def test_an_opened_account_follows_every_change_of_its_secrets(
    wallet_app, db_session, sim_credentials, monkeypatch
):  # type: ignore[no-untyped-def]
    """merchant() opens each account once per process and credentials: a new sealed
    token, a new version or another PAYMENT_SECRETS_KEY is never served the old opening."""
    import pytest

    from charity.services import merchant_accounts
    from tests.support.factories import CampaignFactory
    from tests.support.payments import connect

    account = connect(CampaignFactory().organization, "alipay", sim_credentials["alipay"])
    first = merchant_accounts.merchant(account)
    assert merchant_accounts.merchant(account) is first
    assert first.secrets["app_private_key"] == sim_credentials["alipay"]["app_private_key"].strip()

    account.secrets_token = vault.seal({"app_private_key": "another key"})
    assert merchant_accounts.merchant(account).secrets["app_private_key"] == "another key"
    account.version += 1
    assert merchant_accounts.merchant(account).fingerprint.startswith(f"{account.version}:")

    monkeypatch.setitem(wallet_app.config, "PAYMENT_SECRETS_KEY", vault.new_key())
    with pytest.raises(vault.VaultError):
        merchant_accounts.merchant(account)
