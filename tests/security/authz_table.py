"""Who may use which route: THE table of the authorization matrix test.

One entry per endpoint of the URL map, one ``Case`` per HTTP method (and, where the answer
depends on the object, per variant). A route with no entry fails
``tests/security/test_authz_matrix.py``: add it here when you add a route.

Allowed means the request got past authorization (2xx, a 3xx that is not the login page,
or a 400 for the empty form the matrix posts). Denied means 403, 404, or a redirect to the
login page; for POST, denied roles must also change nothing in the database.

URL arguments come from the seeded world by name (see ``ARGS`` in the test): ``org_id`` is
organization A, ``membership_id`` the editor's membership in A, ``token`` an open
invitation in A for the donor, etc. ``args`` overrides them for a variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS = "anonymous"
DONOR = "donor"
OWNER_A = "owner_a"
FINANCE_A = "finance_a"
EDITOR_A = "editor_a"
MEMBER_B = "member_b"
ADMIN = "admin"
REGULATOR = "regulator"

#: The attackers of issue 15's review, each checked on every route:
#: - the owner of A signed in with a second account of their own: invited by A's owner as
#:   finance, accepted today, e-mail confirmed and two-factor on (all an attacker can do
#:   quickly); only the four-eyes rule's membership age stops them from approving;
SECOND_A = "second_a"
#: - the owner of an organization that is only applying (not verified);
OWNER_PENDING = "owner_pending"
#: - an anonymous client behind the documented proxy (TRUSTED_PROXIES=1) forging
#:   X-Forwarded-For (127.0.0.1), X-Forwarded-Host and X-Real-IP.
PROXY_ATTACKER = "proxy_attacker"

ROLES = (
    ANONYMOUS, DONOR, OWNER_A, FINANCE_A, EDITOR_A, MEMBER_B, ADMIN, REGULATOR,
    SECOND_A, OWNER_PENDING, PROXY_ATTACKER,
)  # fmt: skip
EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {ANONYMOUS, PROXY_ATTACKER}
#: Unless a case names them, the new actors get exactly what the actor they resemble gets:
#: a finance member of A, an outsider to A who owns another organization, an anonymous
#: visitor.
LIKE = {SECOND_A: FINANCE_A, OWNER_PENDING: MEMBER_B, PROXY_ATTACKER: ANONYMOUS}
MEMBERS_A = frozenset({OWNER_A, FINANCE_A, EDITOR_A})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    method: str
    allowed: frozenset[str]
    #: URL arguments by world name, overriding the defaults (``{"org_id": "org_pending"}``).
    args: dict[str, str] = field(default_factory=dict)
    variant: str = ""
    #: Query string arguments (literal values).
    query: dict[str, str] = field(default_factory=dict)
    #: Roles that get past authorization but whom the service then refuses: their request
    #: must change nothing either (the four-eyes rule refusing a second account).
    inert: frozenset[str] = frozenset()
    #: Roles refused here although the actor they are LIKE is allowed.
    denied: frozenset[str] = frozenset()


def allows(case: Case, role: str) -> bool:
    """Whether ``role`` may use the route of ``case`` (LIKE for the new actors)."""
    if role in case.denied:
        return False
    if role in case.allowed:
        return True
    return role in LIKE and LIKE[role] in case.allowed


def get(allowed: frozenset[str], **kw) -> Case:  # type: ignore[no-untyped-def]
    return Case("GET", frozenset(allowed), **kw)


def post(allowed: frozenset[str], **kw) -> Case:  # type: ignore[no-untyped-def]
    return Case("POST", frozenset(allowed), **kw)


GIFT = {"token": "gift_token"}
MONTHLY = {"token": "monthly_token"}
FINANCE = frozenset({OWNER_A, FINANCE_A})
NEW_DISCLOSURE = {"type": "annual_work_report", "subject": "org", "period": "2025"}

TABLE: dict[str, tuple[Case, ...]] = {
    # --- site and accounts -----------------------------------------------------------------
    "main.home": (get(EVERYONE),),
    "main.set_language": (get(EVERYONE),),
    "auth.login": (get(EVERYONE), post(EVERYONE)),
    "auth.signup": (get(EVERYONE), post(EVERYONE)),
    "auth.logout": (post(EVERYONE),),
    "auth.account": (get(LOGGED_IN),),
    "auth.change_password": (get(LOGGED_IN), post(LOGGED_IN)),
    "auth.reset_request": (get(EVERYONE), post(EVERYONE)),
    # a reset link is a bearer token: whoever holds it may use it
    "auth.reset_password": (
        get(EVERYONE, args={"token": "reset_token"}),
        post(EVERYONE, args={"token": "reset_token"}),
    ),
    # the sign-up mail's link is a bearer token too (it confirms the address it was sent to)
    "auth.verify_email": (get(EVERYONE, args={"token": "verify_token"}),),
    "auth.resend_verification": (post(LOGGED_IN),),
    "auth.logout_everywhere": (post(LOGGED_IN),),
    "two_factor.verify": (get(LOGGED_IN), post(LOGGED_IN)),
    "two_factor.setup": (get(LOGGED_IN), post(LOGGED_IN)),
    "two_factor.confirm": (get(LOGGED_IN), post(LOGGED_IN)),
    "two_factor.disable": (post(LOGGED_IN),),
    # --- organizations ---------------------------------------------------------------------
    "orgs.directory": (get(EVERYONE),),
    "orgs.show": (
        get(EVERYONE),
        get({ADMIN, OWNER_A, OWNER_PENDING}, args={"org_id": "org_pending"}, variant="pending"),
    ),
    "orgs.mine": (get(LOGGED_IN),),
    "orgs.apply": (get(LOGGED_IN - {REGULATOR}), post(LOGGED_IN - {REGULATOR})),
    "orgs.manage": (get(MEMBERS_A),),
    "orgs.edit": (
        get({OWNER_A}),
        post({OWNER_A}),
        post({OWNER_A, OWNER_PENDING}, args={"org_id": "org_pending"}, variant="pending"),
    ),
    "orgs.members": (get(MEMBERS_A),),
    # MCA Order 81 arts. 14-15: owners and finance staff keep the related-party list
    "orgs.related_parties": (get(FINANCE), post(FINANCE)),
    "orgs.payment_account": (get({OWNER_A}), post({OWNER_A})),
    "orgs.basic_info": (get({OWNER_A}), post({OWNER_A})),
    "orgs.record_basic_info_change": (post({OWNER_A}),),
    "orgs.invite": (post({OWNER_A}),),
    "orgs.change_role": (post({OWNER_A}),),
    "orgs.remove": (post({OWNER_A}),),
    "orgs.revoke": (post({OWNER_A}),),
    # only the invited person (the donor) may accept; everyone logged in sees the page
    "orgs.invitation": (get(LOGGED_IN), post({DONOR})),
    # --- campaigns -------------------------------------------------------------------------
    "campaigns.index": (get(EVERYONE),),
    "campaigns.show": (
        get(EVERYONE),
        get(MEMBERS_A | {ADMIN}, args={"campaign_id": "draft_a"}, variant="draft"),
    ),
    "campaigns.new": (get({OWNER_A, EDITOR_A}), post({OWNER_A, EDITOR_A})),
    "campaigns.edit": (
        get({OWNER_A, EDITOR_A}),
        post({OWNER_A, EDITOR_A}, args={"campaign_id": "draft_a"}, variant="draft"),
    ),
    "campaigns.manage": (get(MEMBERS_A),),
    "campaigns.publish": (
        get({OWNER_A}, args={"campaign_id": "draft_a"}),  # the confirmation page
        post({OWNER_A}, args={"campaign_id": "draft_a"}),
    ),
    "campaigns.close": (post({OWNER_A}),),
    "campaigns.post_update": (post({OWNER_A, EDITOR_A}),),
    # --- pictures and sharing (issue 17 point 9) ------------------------------------------
    "pictures.variant": (get(EVERYONE, args={"sha256": "cover_sha256"}),),
    "sharing.campaign_poster": (
        get(EVERYONE),
        get(NOBODY, args={"campaign_id": "draft_a"}, variant="draft"),
    ),
    "sharing.event_poster": (get(EVERYONE),),
    "sharing.team_poster": (get(EVERYONE),),
    "sharing.gift_card": (get(EVERYONE, args=GIFT),),
    "pictures.cover": (
        get({OWNER_A, EDITOR_A}),
        post({OWNER_A, EDITOR_A}),
        get({OWNER_A, EDITOR_A}, args={"campaign_id": "draft_a"}, variant="draft"),
    ),
    # --- disclosures and the regulator ------------------------------------------------------
    "disclosures.obligations": (get(EVERYONE),),
    "disclosures.rules_page": (get(EVERYONE),),
    "disclosures.show": (get(EVERYONE),),
    "disclosures.diff": (get(EVERYONE),),
    "disclosures.attachment": (get(EVERYONE),),
    "disclosures.new": (
        get({OWNER_A, EDITOR_A}, query=NEW_DISCLOSURE),
        post({OWNER_A, EDITOR_A}, query=NEW_DISCLOSURE),
    ),
    "disclosures.correct": (get({OWNER_A, EDITOR_A}), post({OWNER_A, EDITOR_A})),
    # major transactions: members see them; owners and finance staff record them
    "major_transactions.index": (get(MEMBERS_A),),
    "major_transactions.new": (get(FINANCE), post(FINANCE)),
    # Charitable projects (CL 79, Order 81 art. 16): public entries; owners and editors record
    "projects.index": (get(EVERYONE),),
    "projects.show": (get(EVERYONE),),
    "projects.new": (get({OWNER_A, EDITOR_A}), post({OWNER_A, EDITOR_A})),
    "projects.end": (post({OWNER_A, EDITOR_A}),),
    "projects.link": (post({OWNER_A, EDITOR_A}),),
    "api_v1.projects_list": (get(EVERYONE),),
    "api_v1.projects_item": (get(EVERYONE, args={"item_id": "project_a"}),),
    # Charitable trusts (Order 81 art. 12): a public registry; admins and regulators record
    "trusts.index": (get(EVERYONE),),
    "trusts.show": (get(EVERYONE),),
    "trusts.new": (get({ADMIN, REGULATOR}), post({ADMIN, REGULATOR})),
    "api_v1.trusts_list": (get(EVERYONE),),
    "api_v1.trusts_item": (get(EVERYONE, args={"item_id": "trust_a"}),),
    "disclosures.feed_json": (get(EVERYONE),),
    "disclosures.feed_atom": (get(EVERYONE),),
    "regulator.index": (get({REGULATOR, ADMIN}),),
    "regulator.timeline": (get({REGULATOR, ADMIN}),),
    "regulator.export": (get({REGULATOR, ADMIN}, args={"name": "overdue_name", "fmt": "csv"}),),
    "regulator.api_summary": (get({REGULATOR, ADMIN}),),
    "regulator.qualification_loss": (post({REGULATOR, ADMIN}),),
    # complaints and suspensions (issue 16 point 15): anyone may complain; admins and
    # regulators handle complaints and suspend campaigns
    "complaints.new": (get(EVERYONE), post(EVERYONE)),
    "complaints.check": (get(EVERYONE), post(EVERYONE)),
    "enforcement.complaints": (get({REGULATOR, ADMIN}),),
    "enforcement.complaint": (get({REGULATOR, ADMIN}),),
    "enforcement.evidence": (get({REGULATOR, ADMIN}),),
    "enforcement.review": (post({REGULATOR, ADMIN}),),
    "enforcement.reply": (post({REGULATOR, ADMIN}),),
    "enforcement.close": (post({REGULATOR, ADMIN}),),
    "enforcement.campaign": (get({REGULATOR, ADMIN}),),
    "enforcement.suspend": (post({REGULATOR, ADMIN}),),
    "enforcement.lift": (post({REGULATOR, ADMIN}),),
    # 慈善中国 (issue 16 point 16): the export is public like the disclosures; members
    # record where a disclosure is on the national platform
    "cnchina.export": (get(EVERYONE),),
    "cnchina.record": (get(MEMBERS_A), post(MEMBERS_A)),
    # --- donations and payments ------------------------------------------------------------
    "donations.new": (get(EVERYONE), post(EVERYONE)),
    # a donation's token is a bearer token (the guest's receipt link)
    "donations.pay": (get(EVERYONE, args=GIFT),),
    "donations.confirm": (post(EVERYONE, args=GIFT),),
    "donations.show": (get(EVERYONE, args=GIFT),),
    "donations.receipt_pdf": (get(EVERYONE, args=GIFT),),
    "donations.mine": (get(LOGGED_IN),),
    "donations.check_receipt": (
        get(NOBODY, args={"code": "NO-RECEIPT.0000000000"}, variant="unknown code: 404"),
    ),
    "donations.receipt_qr": (get(EVERYONE, args=GIFT),),
    "donations.org_list": (get({OWNER_A, FINANCE_A}),),
    "donations.refund": (get({OWNER_A, FINANCE_A}), post({OWNER_A, FINANCE_A})),
    "donations.issue_receipt": (post({OWNER_A, FINANCE_A}),),
    # the finance bureau's bills (issue 17 point 5)
    "official_receipts.index": (get({OWNER_A, FINANCE_A}),),
    "official_receipts.import_csv": (post({OWNER_A, FINANCE_A}),),
    "official_receipts.record": (get({OWNER_A, FINANCE_A}), post({OWNER_A, FINANCE_A})),
    # the seeded gift has no bill recorded: its download is a 404 for everyone
    "official_receipts.download": (get(NOBODY, args=GIFT, variant="no bill: 404"),),
    # Stripe's signature is the authorization; an unsigned post is a 400 for everyone
    "stripe_webhook.receive": (post(EVERYONE),),
    # --- payments: wallets, merchant accounts, parked events, reconciliation ------------------
    # a wallet's signature is the authorization; an unsigned post is a 400 for everyone
    "payment_notify.notify": (
        post(EVERYONE, args={"provider": "alipay", "account_id": "alipay_account"}),
    ),
    "wallet_pay.begin": (post(EVERYONE, args=GIFT),),
    "wallet_pay.show": (get(EVERYONE, args=GIFT),),
    "wallet_pay.status": (get(EVERYONE, args=GIFT),),
    "payment_accounts.overview": (get(FINANCE),),
    # only an owner enters credentials (and re-enters the password to do it)
    "payment_accounts.edit": (
        get({OWNER_A}, args={"provider": "wechatpay"}),
        post({OWNER_A}, args={"provider": "wechatpay"}),
    ),
    "payment_accounts.dismiss": (post(FINANCE, args={"parked_id": "gift"}),),
    # a pending receiving-account change (requested by owner_a): owners and finance decide;
    # the four-eyes rule then refuses the requester with a message (issue 15 finding 12)
    "payment_accounts.approve_change": (post(FINANCE, inert=frozenset({SECOND_A})),),
    "payment_accounts.cancel_change": (post(FINANCE),),
    # money waiting for a second person (issue 15, four eyes): a refund request and a
    # recorded bank transfer of A's owner; owners and finance decide, the four-eyes rule
    # then refuses the requester (and anyone without 2FA) with a message
    "money_approvals.index": (get(FINANCE),),
    "money_approvals.approve_refund": (post(FINANCE, inert=frozenset({SECOND_A})),),
    "money_approvals.reject_refund": (post(FINANCE),),
    "money_approvals.confirm_gift": (
        post(FINANCE, args={"donation_id": "awaiting_gift"}, inert=frozenset({SECOND_A})),
    ),
    "money_approvals.decline_gift": (post(FINANCE, args={"donation_id": "awaiting_gift"}),),
    "reconciliation.show_run": (get(FINANCE, args={"run_id": "reconciliation_run"}),),
    "reconciliation.apply": (
        post(
            FINANCE,
            args={"run_id": "reconciliation_run", "difference_id": "reconciliation_difference"},
        ),
    ),
    # --- the public audit log --------------------------------------------------------------
    "auditlog_api.get_checkpoint": (get(EVERYONE),),
    "auditlog_api.get_key": (get(EVERYONE),),
    "auditlog_api.get_entries": (get(EVERYONE, query={"start": "0", "end": "1"}),),
    "auditlog_api.get_inclusion_proof": (get(EVERYONE, query={"index": "0", "tree_size": "1"}),),
    "auditlog_api.get_consistency_proof": (get(EVERYONE, query={"first": "1", "second": "1"}),),
    "auditlog_pages.index": (get(EVERYONE),),
    "auditlog_pages.entry": (get(EVERYONE, args={"index": "log_index"}),),
    # --- operations: health for load balancers; metrics by network or token, not by role
    # (test clients come from 127.0.0.1; other addresses: test_metrics_refuse_other_addresses)
    "ops.healthz": (get(EVERYONE),),
    # behind the proxy, a forged "X-Forwarded-For: 127.0.0.1" does not make a loopback client
    "ops.prometheus_metrics": (get(EVERYONE, denied=frozenset({PROXY_ATTACKER})),),
    # --- community funds and disbursements --------------------------------------------------
    "funds.index": (get(EVERYONE),),
    "funds.show": (get(EVERYONE),),
    "funds.donate": (get(EVERYONE), post(EVERYONE)),
    "funds.statement_csv": (get(EVERYONE, args={"year": "this_year"}),),
    "funds.statement_pdf": (get(EVERYONE, args={"year": "this_year"}),),
    "funds.new": (get({OWNER_A}), post({OWNER_A})),
    "funds.committee": (get({OWNER_A}), post({OWNER_A})),
    "funds.transfer": (get({OWNER_A, FINANCE_A}), post({OWNER_A, FINANCE_A})),
    # a fund-to-host request (by finance_a) is decided by the host's finance staff: the
    # four-eyes rule then refuses the requester and unqualified people with a message (422)
    "funds.approve_transfer": (post({OWNER_A, FINANCE_A}, inert=frozenset({SECOND_A})),),
    "funds.reject_transfer": (post({OWNER_A, FINANCE_A}),),
    "funds.close": (get({OWNER_A}), post({OWNER_A})),
    "funds.earmark": (get({OWNER_A, FINANCE_A}), post({OWNER_A, FINANCE_A})),
    # requests are seen and decided by finance staff (the requester is finance_a: the owner
    # decides; four eyes); executed ones are public
    "disbursements.new": (
        get({OWNER_A, FINANCE_A}, query={"fund": "FUND"}),
        post({OWNER_A, FINANCE_A}, query={"fund": "FUND"}),
    ),
    "disbursements.show": (
        get({OWNER_A, FINANCE_A}),
        get(EVERYONE, args={"disbursement_id": "executed_disbursement"}, variant="executed"),
    ),
    # an individual beneficiary's evidence names them: the organization, admins and the
    # regulator only, even once paid (issue 15 finding 7)
    "disbursements.evidence": (
        get({OWNER_A, FINANCE_A}),
        get(
            MEMBERS_A | {ADMIN, REGULATOR},
            args={"disbursement_id": "executed_individual"},
            variant="individual",
        ),
    ),
    # an owner's second account (SECOND_A) gets past the role check and is refused by the
    # four-eyes rule (its membership is new): nothing changes (issue 15 finding 6)
    "disbursements.approve": (post({OWNER_A, FINANCE_A}, inert=frozenset({SECOND_A})),),
    "disbursements.reject": (post({OWNER_A, FINANCE_A}),),
    "disbursements.execute": (post({OWNER_A, FINANCE_A}),),
    "disbursements.queue": (get({OWNER_A, FINANCE_A}),),
    # --- giving days: public pages, teams, applications, pledges, the admin's events ---------
    "givingdays.index": (get(EVERYONE),),
    "givingdays.show": (get(EVERYONE),),
    "givingdays.pool": (get(EVERYONE),),
    # a sponsor's bank transfers into pool A (held by organization A): four eyes
    "givingdays.sponsor_payments_page": (get(FINANCE | {ADMIN}), post(FINANCE | {ADMIN})),
    "givingdays.decide_sponsor_payment": (post(FINANCE | {ADMIN}),),
    # its bank slip shows the organization's account: those who record and confirm only
    "givingdays.sponsor_payment_slip": (get(FINANCE | {ADMIN}),),
    # anyone logged in may start a team for a published campaign; never for a draft
    "givingdays.new_team": (
        get(LOGGED_IN),
        post(LOGGED_IN),
        get(NOBODY, args={"campaign_id": "draft_a"}, variant="draft"),
        post(NOBODY, args={"campaign_id": "draft_a"}, variant="draft"),
    ),
    "givingdays.team": (get(EVERYONE),),
    # the campaign's organization (owner, editor) hides a team
    "givingdays.hide_team": (post({OWNER_A, EDITOR_A}),),
    # donor messages (issue 17 point 9): anyone may report one; the gift's organization
    # (owner, editor) reads its queue and hides a message with a reason
    "gift_messages.report": (get(EVERYONE), post(EVERYONE)),
    "gift_messages.queue": (get({OWNER_A, EDITOR_A}),),
    "gift_messages.hide": (post({OWNER_A, EDITOR_A}),),
    "givingdays.apply": (get({OWNER_A, EDITOR_A}), post({OWNER_A, EDITOR_A})),
    "givingdays.pledges": (get(FINANCE), post(FINANCE)),
    "givingdays.link_pledge": (post(FINANCE),),
    "givingdays.admin_events": (get({ADMIN}), post({ADMIN})),
    "givingdays.admin_event": (get({ADMIN}), post({ADMIN})),
    "givingdays.admin_decide": (post({ADMIN}),),
    # --- platform administration -----------------------------------------------------------
    "admin.organizations": (get({ADMIN}),),
    "admin.review": (
        get({ADMIN}, args={"org_id": "org_pending"}),
        post({ADMIN}, args={"org_id": "org_pending"}),
    ),
    # --- public API ------------------------------------------------------------------------
    "api_v1.docs": (get(EVERYONE),),
    "api_v1.openapi": (get(EVERYONE),),
    "api_v1.organizations_list": (get(EVERYONE),),
    "api_v1.organizations_item": (
        get(EVERYONE),
        get(NOBODY, args={"item_id": "org_pending"}, variant="pending"),
    ),
    "api_v1.campaigns_list": (get(EVERYONE),),
    "api_v1.campaigns_item": (get(EVERYONE, args={"item_id": "campaign_a"}),),
    "api_v1.donations_list": (get(EVERYONE),),
    "api_v1.campaign_updates_list": (get(EVERYONE),),
    "api_v1.disclosures_list": (get(EVERYONE),),
    "api_v1.disclosures_item": (get(EVERYONE, args={"item_id": "disclosure_a"}),),
    "api_v1.obligations_list": (get(EVERYONE),),
    "api_v1.funds_list": (get(EVERYONE),),
    "api_v1.funds_item": (get(EVERYONE, args={"item_id": "fund_a"}),),
    "api_v1.obligations_item": (get(EVERYONE, args={"item_id": "obligation_a"}),),
    "api_v1.campaign_updates_item": (get(EVERYONE, args={"item_id": "update_a"}),),
    "api_v1.giving_days_list": (get(EVERYONE),),
    "api_v1.giving_days_item": (get(EVERYONE, args={"item_id": "event_a"}),),
    "api_v1.matching_pools_list": (get(EVERYONE),),
    "api_v1.matching_pools_item": (get(EVERYONE, args={"item_id": "pool_a"}),),
    "api_v1.teams_list": (get(EVERYONE),),
    "api_v1.teams_item": (
        get(EVERYONE, args={"item_id": "team_a"}),
        get(NOBODY, args={"item_id": "hidden_team"}, variant="hidden"),
    ),
    "api_v1.pledges_list": (get(EVERYONE),),
    "api_v1.pledges_item": (
        get(EVERYONE, args={"item_id": "pledge_a"}),
        get(NOBODY, args={"item_id": "pending_pledge"}, variant="pending-org"),
    ),
    # --- donor accounts, monthly gifts, offline and in-kind gifts ----------------------------
    "donor.account_gifts": (get(LOGGED_IN),),
    "donor.statement_pdf": (get(LOGGED_IN, args={"year": "this_year"}),),
    "donor.claim_request": (post(LOGGED_IN),),
    # an unknown claim token is refused with a message, after login
    "donor.claim_confirm": (get(LOGGED_IN),),
    "donor.consent": (post(LOGGED_IN),),
    # donors hear back (issue 17 point 10): the setting, and the signed one-click link
    "donor_updates.setting": (post(LOGGED_IN),),
    "donor_updates.unsubscribe": (
        get(NOBODY, args={"token": "not-a-signed-token"}, variant="bad token: 404"),
        post(NOBODY, args={"token": "not-a-signed-token"}, variant="bad token: 404"),
    ),
    "donor.erase": (get(LOGGED_IN), post(LOGGED_IN)),
    # a monthly gift's page is a bearer token, like a receipt
    "donor.monthly_show": (get(EVERYONE, args=MONTHLY),),
    "donor.monthly_pay": (get(EVERYONE, args=MONTHLY),),
    "donor.monthly_confirm": (post(EVERYONE, args=MONTHLY),),
    "donor.monthly_cancel": (get(EVERYONE, args=MONTHLY), post(EVERYONE, args=MONTHLY)),
    "offline.index": (get(FINANCE),),
    "offline.new": (get(FINANCE), post(FINANCE)),
    "offline.new_in_kind": (get(FINANCE), post(FINANCE)),
    "offline.reverse": (get(FINANCE), post(FINANCE)),
    # the seeded gift is an online gift: it has no offline evidence for anyone to see
    "offline.evidence": (get(NOBODY, variant="online-gift"),),
}
