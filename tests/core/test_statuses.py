"""charity.models.statuses: the status moves, checked in one place (issue 19 point 5)."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models.campaign import CAMPAIGN_STATUSES, CampaignFrozenError
from charity.models.disbursement import DISBURSEMENT_STATUSES
from charity.models.donation import DONATION_STATUSES
from charity.models.enforcement import COMPLAINT_STATUSES
from charity.models.statuses import (
    TRANSITIONS,
    IllegalTransitionError,
    can_transition,
    check_transition,
)
from tests.support.factories import CampaignFactory, DonationFactory


@pytest.mark.parametrize(
    ("kind", "statuses"),
    [
        ("campaign", CAMPAIGN_STATUSES),
        ("donation", DONATION_STATUSES),
        ("disbursement", DISBURSEMENT_STATUSES),
        ("complaint", COMPLAINT_STATUSES),
    ],
)
def test_the_table_knows_exactly_the_statuses_the_database_accepts(kind, statuses):
    table = TRANSITIONS[kind]
    assert set(table) == set(statuses)
    assert all(targets <= set(statuses) for targets in table.values())


def test_legal_and_illegal_moves():
    assert can_transition("donation", "pending", "succeeded")
    assert can_transition("donation", "succeeded", "partially_refunded")
    assert can_transition("donation", "partially_refunded", "partially_refunded")  # no move
    assert can_transition("donation", None, "pending")  # a new row
    assert not can_transition("donation", "refunded", "succeeded")
    assert not can_transition("donation", "pending", "refunded")
    assert not can_transition("donation", "pending", "lost")  # not a status at all
    assert not can_transition("disbursement", "rejected", "approved")
    assert not can_transition("campaign", "closed", "published")
    with pytest.raises(IllegalTransitionError, match="from executed to requested"):
        check_transition("disbursement", "executed", "requested")


def test_assigning_an_illegal_status_raises_before_anything_is_written(db_session):
    gift = DonationFactory(status="succeeded")
    gift.status = "refunded"
    with pytest.raises(IllegalTransitionError):
        gift.status = "pending"
    assert gift.status == "refunded"
    with pytest.raises(IllegalTransitionError):
        DonationFactory(status="pending").status = "reversed"


def test_a_campaign_cannot_go_back_to_draft(db_session):
    campaign = CampaignFactory(status="published")
    with pytest.raises(CampaignFrozenError):  # an IllegalTransitionError
        campaign.status = "draft"
    campaign.status = "closed"
    assert not campaign.can_transition_to("published")


#: Every table with a ``status`` column and the kind of its transition table. A new model
#: with a status column fails the first test below until it has a table and a validator.
STATUS_KINDS = {
    "campaigns": "campaign",
    "donations": "donation",
    "disbursements": "disbursement",
    "complaints": "complaint",
    "organizations": "organization",
    "funds": "fund",
    "fund_transfers": "fund_transfer",
    "recurring_gifts": "recurring_gift",
    "payment_orders": "payment_order",
    "parked_events": "parked_event",
    "reconciliation_runs": "reconciliation_run",
    "payout_changes": "payout_change",
    "refund_requests": "refund_request",
    "giving_day_campaigns": "event_campaign",
    "sponsor_payments": "sponsor_payment",
}


def _status_models() -> dict[str, type]:
    return {
        mapper.local_table.name: mapper.class_
        for mapper in db.Model.registry.mappers
        if "status" in mapper.columns and mapper.columns["status"].table is mapper.local_table
    }


def _checked_statuses(model: type) -> set[str] | None:
    """The statuses the table's CHECK constraint accepts (None: it has none)."""
    for constraint in model.__table__.constraints:
        if isinstance(constraint, sa.CheckConstraint) and str(constraint.sqltext).startswith(
            "status IN "
        ):
            return set(re.findall(r"'([a-z_]+)'", str(constraint.sqltext)))
    return None


def test_every_model_with_a_status_column_has_a_transition_table_and_its_validator():
    models = _status_models()
    assert sorted(models) == sorted(STATUS_KINDS)
    for table, model in models.items():
        kind = STATUS_KINDS[table]
        assert kind in TRANSITIONS, table
        validator = sa.inspect(model).validators.get("status")
        assert validator is not None, f"{model.__name__}.status is not checked"
        assert getattr(validator[0], "kind", kind) == kind, table
        assert set(TRANSITIONS[kind]) == _checked_statuses(model), table
        assert all(targets <= set(TRANSITIONS[kind]) for targets in TRANSITIONS[kind].values())


def _an_illegal_move(kind: str) -> tuple[str, str]:
    table = TRANSITIONS[kind]
    return next(
        (current, target)
        for current in table
        for target in table
        if target != current and target not in table[current]
    )


@pytest.mark.parametrize("table", sorted(STATUS_KINDS))
def test_an_illegal_move_raises_the_domain_error_on_every_status_model(table):
    model = _status_models()[table]
    kind = STATUS_KINDS[table]
    current, target = _an_illegal_move(kind)
    row = model(status=current)  # a new row may start in any status of its table
    with pytest.raises(IllegalTransitionError):
        row.status = target
    assert row.status == current
    with pytest.raises(IllegalTransitionError):
        row.status = "no_such_status"
    for allowed in TRANSITIONS[kind][current]:
        model(status=current).status = allowed  # every legal move passes


def test_no_bulk_update_sets_a_status_behind_the_validator():
    """A Core ``update(...).values(status=...)`` would skip the models' validators; the one
    raw UPDATE that moves a status (a donation's success) checks the move itself."""
    root = pathlib.Path(__file__).resolve().parents[2] / "charity"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values"
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert found == []
