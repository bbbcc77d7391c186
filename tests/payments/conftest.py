"""Payments fixtures: the WeChat Pay and Alipay simulators, an app pointed at them and a
campaign that takes wallets. The localstripe app (``stripe_app``, ``campaign``) and the
helpers that play the browser's and Stripe's parts are in tests/support/payments.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from charity.extensions import db
from tests.support.factories import CampaignFactory
from tests.support.payments import connect, running_simulator, sim_call


@pytest.fixture
def pdf_mail(stripe_app):  # type: ignore[no-untyped-def]
    stripe_app.config["RECEIPT_EMAIL_PDF"] = True
    yield
    stripe_app.config["RECEIPT_EMAIL_PDF"] = False


@pytest.fixture(scope="session")
def wechatpay_sim() -> Iterator[str]:
    with running_simulator("wechatpay") as base:
        sim_call(base, "/_sim/notifications/mode", {"mode": "hold"})
        yield base


@pytest.fixture(scope="session")
def alipay_sim() -> Iterator[str]:
    with running_simulator("alipay") as base:
        sim_call(base, "/_sim/notifications/mode", {"mode": "hold"})
        yield base


@pytest.fixture(scope="session")
def wallet_app(stripe_app, wechatpay_sim, alipay_sim):  # type: ignore[no-untyped-def]
    stripe_app.config["WECHATPAY_API_BASE"] = wechatpay_sim
    stripe_app.config["ALIPAY_GATEWAY"] = f"{alipay_sim}/gateway.do"
    return stripe_app


@pytest.fixture(scope="session")
def sim_credentials(wechatpay_sim, alipay_sim) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """One merchant of each kind for the session (keys are slow to make)."""
    return {
        "wechatpay": sim_call(wechatpay_sim, "/_sim/merchants", {"mode": "certificate"}),
        "wechatpay_public_key": sim_call(wechatpay_sim, "/_sim/merchants", {"mode": "public_key"}),
        "alipay": sim_call(alipay_sim, "/_sim/apps", {}),
    }


@pytest.fixture
def wallet_campaign(wallet_app, db_session, sim_credentials):  # type: ignore[no-untyped-def]
    """A campaign whose organization takes WeChat Pay (certificate mode), Alipay and cards."""
    campaign = CampaignFactory()
    connect(campaign.organization, "wechatpay", sim_credentials["wechatpay"])
    connect(campaign.organization, "alipay", sim_credentials["alipay"])
    db.session.commit()
    return campaign
