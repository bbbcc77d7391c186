"""Security helpers shared by the security tests: the routes of the authorization matrix with a
URL for each case, and the rate-limited giving app.
"""

from __future__ import annotations

import pytest
from flask import Flask

import config
from charity import create_app
from charity.extensions import db
from tests.security import authz_table as table
from tests.security.world import World
from tests.support.payments import SECRET

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
IGNORED_ENDPOINTS = {"static"}


def url_map_routes() -> list[tuple[str, str]]:
    """(endpoint, method) for every rule of a freshly built app: the matrix's rows."""
    application = create_app(config.TestingConfig("sqlite://"))
    routes = {
        (rule.endpoint, method)
        for rule in application.url_map.iter_rules()
        if rule.endpoint not in IGNORED_ENDPOINTS
        for method in rule.methods or ()
        if method not in SKIPPED_METHODS
    }
    with application.app_context():
        db.engine.dispose()
    return sorted(routes)


ROUTES = url_map_routes()


#: Which world name fills each URL argument unless the table's case says otherwise.
ARGS = {
    "org_id": "org_a",
    "membership_id": "editor_membership",
    "invitation_id": "invitation",
    "token": "invitation_token",
    "code": "language",
    "item_id": "org_a",
    "campaign_id": "campaign_a",
    "disclosure_id": "disclosure_a",
    "number": "version_2",
    "sha256": "attachment_sha256",
    "name": "overdue_name",
    "fmt": "csv",
    "donation_id": "gift",
    "fund_id": "fund_a",
    "disbursement_id": "requested_disbursement",
    "transfer_id": "transfer_request",
    "change_id": "payout_change",
    "request_id": "refund_request",
    "year": "this_year",
    "event_id": "event_a",
    "pool_id": "pool_a",
    "payment_id": "sponsor_payment_a",
    "team_id": "team_a",
    "ext": "webp",
    "complaint_id": "complaint_a",
    "project_id": "project_a",
    "trust_id": "trust_a",
}


def url_for_case(app: Flask, endpoint: str, case: table.Case, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    names = {**ARGS, **case.args}
    missing = [arg for arg in rule.arguments if arg not in names]
    assert not missing, f"add URL arguments {missing} of {endpoint} to ARGS"
    values = {arg: world.names.get(names[arg], names[arg]) for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        query = {k: world.names["fund_a"] if v == "FUND" else v for k, v in case.query.items()}
        return url_for(endpoint, **values, **query)


STRICT = {
    "RATELIMIT_DONATION_IP": "1 per hour",
    "RATELIMIT_DONATION_EMAIL": "1 per hour",
    "RATELIMIT_PAYMENT_ATTEMPT": "3 per hour",
}


@pytest.fixture
def donating(limited_app, stripe_app, localstripe_url, db_session):  # type: ignore[no-untyped-def]
    def build(**limits: str):  # type: ignore[no-untyped-def]
        return limited_app(
            STRIPE_API_BASE=localstripe_url,
            STRIPE_WEBHOOK_SECRET=SECRET,
            RECEIPT_EMAIL_PDF=False,
            **limits,
        )

    return build


def client_from(app, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client
