"""Community funds: creation (name and committee rules), committee changes, transfers with
the host's unrestricted money, earmarking campaigns, closing.

Rules enforced here, with the field each error belongs to:
- the host is a verified organization and the actor its owner;
- the name is "host's full name + XX社区慈善基金"; a sponsor's name (anything else ending
  in 社区慈善基金) only with a stated reason;
- the committee has at least 5 members, an odd number, all declared unpaid, at least one
  supervisor — on creation and on every change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import (
    Campaign,
    Fund,
    FundCommitteeMember,
    FundTransfer,
    LedgerAccount,
    LedgerEntry,
    Organization,
    User,
)
from charity.models.fund import COMMITTEE_ROLES, NAME_SUFFIX
from charity.services import allocation, approval_mail, four_eyes, ledger
from charity.services.accounts import find_user_by_email
from charity.services.compliance_triggers import record_compliance_trigger
from charity.services.merchant_accounts import can_receive_online
from charity.services.pools import Pool, available_fen, lock_pool, pool_balance
from charity.web.i18n import N_

MIN_COMMITTEE = 5
MANAGER_ROLES = ("owner", "finance")


class FundError(DomainError, ValueError):
    """A fund change we refuse; ``field`` names the form field it belongs to (or None)."""


@dataclass(frozen=True)
class Seat:
    name: str
    role: str = "member"
    unpaid: bool = True
    #: A platform account (for approvals), found by email; optional.
    user_email: str = ""


@dataclass(frozen=True)
class NewFund:
    organization_id: int
    name: str
    purpose_md: str
    restriction: str
    service_area: str
    committee: tuple[Seat, ...]
    sponsor_reason: str = ""


@dataclass(frozen=True)
class TransferCommand:
    fund_id: int
    #: "to_fund" (host unrestricted -> fund) or "to_host".
    direction: str
    amount_fen: int
    reason: str


def check_name(host: Organization, name: str, sponsor_reason: str) -> None:
    name = name.strip()
    if not name.endswith(NAME_SUFFIX) or len(name) <= len(NAME_SUFFIX):
        raise FundError(N_("The name must end with 社区慈善基金."), "name")
    if name.startswith(host.name):
        if len(name) <= len(host.name) + len(NAME_SUFFIX):
            raise FundError(
                N_("Put the fund's own name between the host's name and 社区慈善基金."), "name"
            )
        return
    if not sponsor_reason.strip():
        raise FundError(
            N_(
                "The name must start with the host's full name, or give the reason for a "
                "sponsor's name."
            ),
            "sponsor_reason",
        )


def check_committee(seats: Sequence[Seat]) -> None:
    """At least five, an odd number, all unpaid, at least one supervisor."""
    if len(seats) < MIN_COMMITTEE:
        raise FundError(N_("The committee needs at least five members."), "committee")
    if len(seats) % 2 == 0:
        raise FundError(N_("The committee needs an odd number of members."), "committee")
    if any(seat.role not in COMMITTEE_ROLES for seat in seats):
        raise FundError(N_("Each member's role is chair, member or supervisor."), "committee")
    if any(not seat.name.strip() for seat in seats):
        raise FundError(N_("Each committee member needs a name."), "committee")
    if not all(seat.unpaid for seat in seats):
        raise FundError(N_("Committee members serve unpaid."), "committee")
    if not any(seat.role == "supervisor" for seat in seats):
        raise FundError(N_("The committee needs at least one supervisor."), "committee")


def _require_manager(actor: User, organization_id: int, roles: tuple[str, ...]) -> None:
    if actor.role_in(organization_id) not in roles:
        raise PermissionError("not allowed for this organization")


def _seat_rows(session: Session, seats: Sequence[Seat]) -> list[FundCommitteeMember]:
    rows = []
    for seat in seats:
        user = find_user_by_email(session, seat.user_email) if seat.user_email else None
        if seat.user_email and user is None:
            raise FundError(N_("A committee member's email has no account here."), "committee")
        rows.append(
            FundCommitteeMember(
                name=seat.name.strip(), role=seat.role, unpaid=seat.unpaid, user=user
            )
        )
    return rows


def create_fund(session: Session, actor: User, command: NewFund) -> Fund:
    host = session.get(Organization, command.organization_id)
    if host is None:
        raise LookupError(command.organization_id)
    _require_manager(actor, host.id, ("owner",))
    if not host.is_verified:
        raise FundError(N_("Only a verified organization can host funds."))
    check_name(host, command.name, command.sponsor_reason)
    check_committee(command.committee)
    if session.scalar(sa.select(Fund.id).where(Fund.name == command.name.strip())):
        raise FundError(N_("A fund with this name exists already."), "name")
    for field in ("purpose_md", "restriction", "service_area"):
        if not getattr(command, field).strip():
            raise FundError(N_("This field is required."), field)
    fund = Fund(
        organization=host,
        name=command.name.strip(),
        sponsor_reason=command.sponsor_reason.strip(),
        purpose_md=command.purpose_md.strip(),
        restriction=command.restriction.strip(),
        service_area=command.service_area.strip(),
        created_by_id=actor.id,
        committee=_seat_rows(session, command.committee),
    )
    session.add(fund)
    session.flush()  # the fund id names its ledger accounts and the log entry
    ledger.get_account(session, "restricted", host.id, fund.currency, None, fund.id)
    record_event(session, "fund.created", subject_id=fund.id)
    # CL art. 78 / Order 81 (issue 16 point 7): setting up a community fund (专项基金)
    # changes the host's basic information (its sub-units): 30 days to publish it.
    record_compliance_trigger(
        session, host.id, "basic_info_change", today_cst(), f"Special fund set up: {fund.id}"
    )
    return fund


def replace_committee(session: Session, actor: User, fund_id: int, seats: Sequence[Seat]) -> Fund:
    """Change the committee as a whole (one seat at a time would break the odd-number rule)."""
    fund = lock_pool(session, Pool("fund", fund_id))
    assert isinstance(fund, Fund)
    _require_manager(actor, fund.organization_id, ("owner",))
    check_committee(seats)
    now = datetime.now(UTC)
    for member in fund.active_committee:
        member.ended_at = now
    fund.committee.extend(_seat_rows(session, seats))
    return fund


def open_fund_for_gifts(session: Session, fund_id: int) -> Fund:
    fund = session.get(Fund, fund_id)
    if fund is None:
        raise LookupError(fund_id)
    if not fund.is_active or not fund.organization.is_verified:
        raise FundError(N_("This fund is not accepting gifts now."))
    if not can_receive_online(session, fund.organization):
        raise FundError(N_("This organization cannot receive online gifts yet."))
    return fund


def host_unrestricted_fen(session: Session, organization_id: int, currency: str = "CNY") -> int:
    """The host's own (unrestricted) money in the ledger."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.organization_id == organization_id,
            LedgerAccount.campaign_id.is_(None),
            LedgerAccount.fund_id.is_(None),
            LedgerAccount.kind != "clearing",
            LedgerAccount.currency == currency,
        )
    )
    return -int(total or 0)


def _lock_host(session: Session, organization_id: int) -> None:
    session.execute(
        sa.select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )


def transfer(session: Session, actor: User, command: TransferCommand) -> FundTransfer:
    """Move money into the fund (posted at once), or ask to move it back to the host's
    unrestricted money (a request a second person approves: ``approve_transfer``).
    Never overdraws."""
    pool = Pool("fund", command.fund_id)
    fund = lock_pool(session, pool)
    assert isinstance(fund, Fund)
    _require_manager(actor, fund.organization_id, MANAGER_ROLES)
    if command.direction not in ("to_fund", "to_host"):
        raise FundError(N_("Choose a direction."), "direction")
    if not command.reason.strip():
        raise FundError(N_("Give a reason for the transfer."), "reason")
    if command.amount_fen <= 0:
        raise FundError(N_("Enter an amount greater than zero."), "amount")
    if command.direction == "to_fund":
        if not fund.is_active:
            raise FundError(N_("This fund is closed."))
        _lock_host(session, fund.organization_id)
        if command.amount_fen > host_unrestricted_fen(session, fund.organization_id):
            raise FundError(N_("The host's unrestricted money is less than this amount."), "amount")
    elif command.amount_fen > available_fen(session, pool):
        raise FundError(N_("The fund's available money is less than this amount."), "amount")
    row = FundTransfer(
        fund=fund,
        direction=command.direction,
        amount_fen=command.amount_fen,
        currency=fund.currency,
        reason=command.reason.strip(),
        created_by_id=actor.id,
        status="posted" if command.direction == "to_fund" else "requested",
    )
    session.add(row)
    session.flush()  # the transfer id is the ledger source key and the log subject
    if row.status == "posted":
        _post_and_log(session, fund, row)
    else:
        approval_mail.queue("fund_transfer", row.id)  # the other finance members, after commit
    return row


def _post_and_log(session: Session, fund: Fund, row: FundTransfer) -> None:
    _post_transfer(session, fund, row)
    allocation.store_allocation(session, Pool("fund", fund.id))
    record_event(session, "fund.transfer", subject_id=row.id)


def _locked_request(session: Session, transfer_id: int) -> tuple[FundTransfer, Fund]:
    """Lock the fund first, then the request (the disbursements' order: no deadlocks)."""
    row = session.get(FundTransfer, transfer_id)
    if row is None:
        raise LookupError(transfer_id)
    fund = lock_pool(session, Pool("fund", row.fund_id))
    assert isinstance(fund, Fund)
    row = session.scalars(
        sa.select(FundTransfer)
        .where(FundTransfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row, fund


def transfer_approval_refusal(actor: User, row: FundTransfer) -> str | None:
    """Why ``actor`` may not approve this request (None: they may)."""
    return four_eyes.second_person_refusal(actor, row.created_by_id, row.fund.organization_id)


def approve_transfer(session: Session, actor: User, transfer_id: int) -> FundTransfer:
    """The second person approves a to_host request: posted to the ledger and the log."""
    row, fund = _locked_request(session, transfer_id)
    _require_manager(actor, fund.organization_id, MANAGER_ROLES)
    if row.status != "requested":
        raise FundError(N_("This request has been decided already."))
    refusal = transfer_approval_refusal(actor, row)
    if refusal is not None:
        raise FundError(refusal)
    if row.amount_fen > available_fen(session, Pool("fund", fund.id)):
        raise FundError(N_("The fund's available money is less than this amount."))
    row.status = "posted"
    row.decided_by_id = actor.id
    row.decided_at = datetime.now(UTC)
    _post_and_log(session, fund, row)
    return row


def reject_transfer(session: Session, actor: User, transfer_id: int) -> FundTransfer:
    """Another finance member turns the request down, or its requester withdraws it."""
    row, fund = _locked_request(session, transfer_id)
    _require_manager(actor, fund.organization_id, MANAGER_ROLES)
    if row.status != "requested":
        raise FundError(N_("This request has been decided already."))
    row.status = "rejected"
    row.decided_by_id = actor.id if actor.id != row.created_by_id else None
    row.decided_at = datetime.now(UTC)
    return row


def pending_transfers(session: Session, fund_id: int) -> list[FundTransfer]:
    return list(
        session.scalars(
            sa.select(FundTransfer)
            .where(FundTransfer.fund_id == fund_id, FundTransfer.status == "requested")
            .order_by(FundTransfer.id)
        )
    )


def _post_transfer(session: Session, fund: Fund, row: FundTransfer) -> None:
    host = ledger.get_account(session, "unrestricted", fund.organization_id, row.currency, None)
    restricted = ledger.get_account(
        session, "restricted", fund.organization_id, row.currency, None, fund.id
    )
    sign = 1 if row.direction == "to_fund" else -1
    ledger.post_transaction(
        session,
        kind="transfer",
        source_key=f"fund_transfer:{row.id}",
        postings=[
            ledger.Posting(host, sign * row.amount_fen),
            ledger.Posting(restricted, -sign * row.amount_fen),
        ],
        description=f"Fund transfer {row.id} ({row.direction})",
    )


def close_fund(session: Session, actor: User, fund_id: int, reason: str) -> Fund:
    """Close a fund whose money is all spent or transferred (nothing approved is pending)."""
    pool = Pool("fund", fund_id)
    fund = lock_pool(session, pool)
    assert isinstance(fund, Fund)
    _require_manager(actor, fund.organization_id, ("owner",))
    if not fund.is_active:
        raise FundError(N_("This fund is closed already."))
    if not reason.strip():
        raise FundError(N_("Give a reason for closing the fund."), "reason")
    if pool_balance(session, pool) != 0 or available_fen(session, pool) != 0:
        raise FundError(N_("Spend or transfer the fund's money before closing it."), "reason")
    fund.status = "closed"
    fund.closed_at = datetime.now(UTC)
    fund.close_reason = reason.strip()
    record_event(session, "fund.closed", subject_id=fund.id)
    return fund


def earmark_campaign(session: Session, actor: User, campaign_id: int, fund_id: int | None) -> None:
    """Mark a campaign as raising for one of its owner's funds (or clear the mark)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(campaign_id)
    _require_manager(actor, campaign.organization_id, MANAGER_ROLES)
    if fund_id is not None:
        fund = session.get(Fund, fund_id)
        if fund is None or fund.organization_id != campaign.organization_id:
            raise FundError(N_("Choose a fund of the same organization."), "fund_id")
    campaign.fund_id = fund_id


def _fund_payload(fund: Fund) -> dict[str, Any]:
    return {
        "fund_id": fund.id,
        "name": fund.name,
        "organization_id": fund.organization_id,
        "org_uscc": fund.organization.uscc,
        "currency": fund.currency,
    }


def fund_created_payload(session: Session, fund_id: int) -> dict[str, Any]:
    fund = session.get(Fund, fund_id)
    if fund is None:
        raise LookupError(f"fund {fund_id} is gone")
    return _fund_payload(fund)


def fund_closed_payload(session: Session, fund_id: int) -> dict[str, Any]:
    return fund_created_payload(session, fund_id)


def transfer_payload(session: Session, transfer_id: int) -> dict[str, Any]:
    row = session.get(FundTransfer, transfer_id)
    if row is None:
        raise LookupError(f"fund transfer {transfer_id} is gone")
    payload = _fund_payload(row.fund)
    payload.update(
        transfer_id=row.id,
        direction=row.direction,
        amount_fen=row.amount_fen,
        currency=row.currency,
    )
    return payload
