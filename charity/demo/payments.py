"""Development: give every verified demo organization a WeChat Pay merchant and an Alipay
app at the local simulators (scripts/*_simulator.py), so `make run` takes all three ways
of paying. The simulators make new keys every run, so this runs on every `make run`."""

from __future__ import annotations

import json
import urllib.request

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.models import Organization
from charity.services import merchant_accounts


def _post(url: str, data: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 simulators
        url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


def connect_simulators(session: Session, wechatpay_base: str, alipay_base: str) -> list[str]:
    """New simulator accounts for each verified organization that receives gifts."""
    lines = []
    organizations = session.scalars(
        sa.select(Organization)
        .where(Organization.status == "verified", Organization.stripe_account_id.is_not(None))
        .order_by(Organization.id)
    ).all()
    for number, organization in enumerate(organizations):
        # One in certificate mode, the others with the platform public key: both paths run.
        mode = "certificate" if number == 0 else "public_key"
        wechat = _post(f"{wechatpay_base}/_sim/merchants", {"mode": mode})
        values = {
            "mchid": wechat["mchid"],
            "appid": wechat["appid"],
            "cert_serial_no": wechat["cert_serial_no"],
            "private_key": wechat["private_key"],
            "apiv3_key": wechat["apiv3_key"],
            "platform_public_key_id": wechat["platform_public_key_id"]
            if mode == "public_key"
            else "",
            "platform_public_key": wechat["platform_public_key"] if mode == "public_key" else "",
        }
        merchant_accounts.store_credentials(session, organization, "wechatpay", values, None)
        app = _post(f"{alipay_base}/_sim/apps", {})
        merchant_accounts.store_credentials(
            session,
            organization,
            "alipay",
            {
                "app_id": app["app_id"],
                "app_private_key": app["app_private_key"],
                "alipay_public_key": app["alipay_public_key"],
            },
            None,
        )
        lines.append(
            f"  {organization.name}: WeChat Pay 商户号 {wechat['mchid']} ({mode}), "
            f"Alipay app {app['app_id']}, Stripe {organization.stripe_account_id}"
        )
    return lines
