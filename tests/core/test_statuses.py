"""charity.models.statuses: the status moves, checked in one place (issue 19 point 5)."""

from __future__ import annotations

import pytest

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
