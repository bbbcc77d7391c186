"""The campaign plan's fields are listed once (models.campaign.PLAN_FIELDS); the service's
command, its copy onto the model and the form follow that list (issue 19 point 5)."""

from __future__ import annotations

from dataclasses import fields

from charity.blueprints.campaigns import CampaignForm
from charity.models.campaign import PLAN_FIELDS
from charity.services.campaigns import TYPED_PLAN_FIELDS, CampaignPlan


def test_the_command_has_every_typed_plan_field_and_nothing_else():
    assert set(TYPED_PLAN_FIELDS) <= set(PLAN_FIELDS)
    assert {f.name for f in fields(CampaignPlan)} == {*TYPED_PLAN_FIELDS, "partner_uscc"}


def test_the_form_has_a_field_for_each(app):
    with app.test_request_context():
        form = CampaignForm(meta={"csrf": False})
        names = {"expected_amount" if n == "expected_amount_fen" else n for n in TYPED_PLAN_FIELDS}
        assert names <= {field.name for field in form}
