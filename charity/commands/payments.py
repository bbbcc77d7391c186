"""``flask payments``: reconciliation with the providers' statements, and unpaid orders.

    flask payments reconcile [--date YYYY-MM-DD] [--org ID]   (daily: yesterday, CST)
    flask payments close-expired                              (every minute or so)
    flask payments reseal                                     (after rotating PAYMENT_SECRETS_KEY)
    flask payments connect-simulators                         (development: `make run`)

``reconcile`` downloads each receiving account's statement of the day (WeChat Pay trade
and refund bills, Alipay's 业务明细, Stripe's charges and refunds), compares it line by
line with the books, stores the result for finance members, prints every difference and
exits 1 when there is one or a statement could not be had (so cron can alert).
"""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from charity.core import uow
from charity.demo.payments import connect_simulators as connect
from charity.extensions import db
from charity.models import MerchantAccount, utcnow
from charity.payments import vault
from charity.services import payout_changes, reconciliation, wallet_payments


@click.group()
def payments() -> None:
    """Payment providers: reconciliation and unpaid orders."""


@payments.command("reconcile")
@click.option("--date", "day_text", help="The day (China Standard Time), default yesterday.")
@click.option("--org", "organization_id", type=int, help="Only this organization.")
@with_appcontext
def reconcile(day_text: str | None, organization_id: int | None) -> None:
    """Compare each provider's statement of a day with the books."""
    try:
        day = date.fromisoformat(day_text) if day_text else reconciliation.yesterday_cst()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
    runs = reconciliation.reconcile_day(db.session, day, organization_id)
    summary = [
        (
            run.provider,
            run.account,
            run.status,
            run.error,
            run.their_lines,
            run.our_lines,
            [
                (d.kind, d.line_kind, d.reference, d.their_amount_fen, d.our_amount_fen)
                for d in run.differences
            ],
        )
        for run in runs
    ]
    uow.commit()
    failed = False
    for provider, account, status, error, theirs, ours, differences in summary:
        if status != "ok":
            failed = True
            click.echo(f"FAILED {provider} {account} {day}: {error}", err=True)
            continue
        click.echo(
            f"{provider} {account} {day}: {theirs} lines theirs, {ours} ours, "
            f"{len(differences)} differences"
        )
        for kind, line_kind, reference, their_fen, our_fen in differences:
            failed = True
            click.echo(
                f"  DIFFERENCE {kind} {line_kind} {reference}: theirs {their_fen} ours {our_fen}"
            )
    if failed:
        raise SystemExit(1)
    click.echo(f"reconciliation {day}: OK ({len(summary)} accounts, zero differences)")


@payments.command("close-expired")
@with_appcontext
def close_expired() -> None:
    """Close unpaid WeChat Pay and Alipay orders past their time at the provider."""
    handled = 0
    while True:
        batch = wallet_payments.close_expired_orders(db.session, utcnow(), limit=50)
        uow.commit()
        handled += batch
        if batch < 50:
            break
    click.echo(f"closed or settled {handled} expired orders")


@payments.command("apply-payout-changes")
@with_appcontext
def apply_payout_changes() -> None:
    """Apply the receiving-account changes whose waiting time has passed (schedule it every
    few minutes; safe to run any number of times)."""
    applied = payout_changes.apply_due_changes(db.session)
    uow.commit()
    for change in applied:
        click.echo(f"applied payout change {change.id}: organization {change.organization_id}")


@payments.command("connect-simulators")
@with_appcontext
def connect_simulators() -> None:
    """Development: accounts at the local simulators for the verified demo organizations."""
    wechatpay = current_app.config.get("WECHATPAY_API_BASE") or ""
    alipay = (current_app.config.get("ALIPAY_GATEWAY") or "").removesuffix("/gateway.do")
    local = ("http://127.0.0.1:", "http://localhost:")
    if not (wechatpay.startswith(local) and alipay.startswith(local)):
        raise click.ClickException("WECHATPAY_API_BASE and ALIPAY_GATEWAY must be local simulators")
    lines = connect(db.session, wechatpay, alipay)
    uow.commit()
    click.echo("Payment accounts at the local simulators:")
    for line in lines:
        click.echo(line)


@payments.command("reseal")
@with_appcontext
def reseal() -> None:
    """Re-encrypt every merchant's secrets under the first PAYMENT_SECRETS_KEY."""
    accounts = db.session.query(MerchantAccount).all()
    for account in accounts:
        account.secrets_token = vault.reseal(account.secrets_token)
    uow.commit()
    click.echo(f"resealed {len(accounts)} merchant accounts")
