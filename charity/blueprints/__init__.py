"""Blueprint registry: each feature's views live in their own module."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

#: (module under charity.blueprints, URL prefix). Add a line per new blueprint.
BLUEPRINTS: list[tuple[str, str | None]] = [
    ("main", None),
    ("auth", "/account"),
    ("two_factor", None),
    ("orgs", "/orgs"),
    ("admin", "/admin"),
    ("api_v1", "/api"),
    ("campaigns", None),
    ("disclosures", None),
    ("regulator", "/regulator"),
    ("donations", None),
    ("official_receipts", None),
    ("donor", None),
    ("donor_updates", None),
    ("offline", None),
    ("money_approvals", None),
    ("major_transactions", None),
    ("stripe_webhook", None),
    ("payment_notify", None),
    ("wallet_pay", None),
    ("payment_accounts", "/orgs"),
    ("reconciliation", "/orgs"),
    ("auditlog_api", "/api/v1/log"),
    ("auditlog_pages", "/log"),
    ("ops", None),
    ("funds", "/funds"),
    ("disbursements", "/disbursements"),
    ("givingdays", None),
    ("pictures", None),
    ("sharing", None),
    ("complaints", None),
    ("enforcement", "/regulator"),
    ("cnchina", None),
    ("projects", None),
    ("trusts", None),
    ("gift_messages", None),
]


def register_blueprints(app: Flask) -> None:
    for module_name, prefix in BLUEPRINTS:
        module = import_module(f"charity.blueprints.{module_name}")
        app.register_blueprint(module.bp, url_prefix=prefix)
