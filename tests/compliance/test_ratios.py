"""Spending ratios (Charity Law art. 61; 民发〔2016〕189号): every band and edge."""

from __future__ import annotations

import pytest

from charity.compliance.rules.ratios import RatioInput, band_for, check_ratios

W = 10_000 * 100  # 万元 in fen


@pytest.fixture
def app_request(app):  # type: ignore[no-untyped-def]
    with app.test_request_context("/?lang=en"):
        yield


def data(**kw):  # type: ignore[no-untyped-def]
    base = {
        "org_type": "foundation",
        "qualified": True,
        "last_year_income_fen": 1000 * W,
        "charitable_spending_fen": 700 * W,
        "management_costs_fen": 50 * W,
        "total_spending_fen": 800 * W,
        "prior_net_assets_fen": 500 * W,
    }
    base.update(kw)
    return RatioInput(**base)


def test_qualified_foundation_exactly_70_and_10_percent_passes(app_request):
    result = check_ratios(data(management_costs_fen=80 * W))
    assert result.ok and result.spending_required_fen == 700 * W
    assert result.management_limit_pct == 10


def test_qualified_foundation_one_fen_short_fails(app_request):
    result = check_ratios(data(charitable_spending_fen=700 * W - 1))
    assert not result.spending_ok and not result.ok
    assert any("not met" in line for line in result.explanation)


def test_qualified_foundation_management_over_10_percent_fails(app_request):
    result = check_ratios(data(management_costs_fen=80 * W + 1))
    assert result.spending_ok and not result.management_ok


def test_qualified_foundation_small_management_costs_are_not_exempt(app_request):
    # Art. 11 exempts arts. 7-9 only; the 10% of qualified foundations is statutory.
    result = check_ratios(
        data(
            management_costs_fen=19 * W, total_spending_fen=100 * W, charitable_spending_fen=700 * W
        )
    )
    assert not result.management_exempt and not result.management_ok


def test_qualified_social_group_70_and_13_percent(app_request):
    ok = check_ratios(data(org_type="social_group", management_costs_fen=104 * W))
    assert ok.ok and ok.management_limit_pct == 13
    bad = check_ratios(data(org_type="social_service", management_costs_fen=104 * W + 1))
    assert not bad.management_ok


@pytest.mark.parametrize(
    ("org_type", "net_assets", "spend_pct", "mgmt_pct"),
    [
        ("foundation", 6000 * W, 6, 12),
        ("foundation", 6000 * W - 1, 6, 13),
        ("foundation", 800 * W, 6, 13),
        ("foundation", 800 * W - 1, 7, 15),
        ("foundation", 400 * W, 7, 15),
        ("foundation", 400 * W - 1, 8, 20),
        ("social_group", 1000 * W, 6, 13),
        ("social_group", 1000 * W - 1, 7, 14),
        ("social_service", 500 * W, 7, 14),
        ("social_service", 500 * W - 1, 8, 15),
        ("social_group", 100 * W, 8, 15),
        ("social_group", 100 * W - 1, 8, 20),
    ],
)
def test_net_asset_bands(org_type, net_assets, spend_pct, mgmt_pct):
    band = band_for(org_type, net_assets)
    assert (band.spending_pct_of_net_assets, band.management_pct) == (spend_pct, mgmt_pct)


def test_unqualified_foundation_band_threshold_is_exact(app_request):
    needed = 6000 * W * 6 // 100
    args = {"qualified": False, "prior_net_assets_fen": 6000 * W, "total_spending_fen": 1000 * W}
    assert check_ratios(
        data(charitable_spending_fen=needed, management_costs_fen=120 * W, **args)
    ).ok
    assert not check_ratios(data(charitable_spending_fen=needed - 1, **args)).spending_ok
    assert not check_ratios(
        data(charitable_spending_fen=needed, management_costs_fen=120 * W + 1, **args)
    ).management_ok


def test_small_social_group_needs_half_of_last_years_income_too(app_request):
    args = {
        "org_type": "social_group",
        "qualified": False,
        "prior_net_assets_fen": 50 * W,
        "last_year_income_fen": 40 * W,
        "management_costs_fen": 1 * W,
    }
    # 8% of net assets is 4万 but 50% of income is 20万.
    assert check_ratios(data(charitable_spending_fen=20 * W, **args)).spending_ok
    result = check_ratios(data(charitable_spending_fen=20 * W - 1, **args))
    assert not result.spending_ok and result.spending_required_fen == 20 * W


def test_management_costs_under_200000_yuan_are_exempt(app_request):
    args = {
        "qualified": False,
        "org_type": "social_group",
        "prior_net_assets_fen": 50 * W,
        "last_year_income_fen": 10 * W,
        "charitable_spending_fen": 10 * W,
        "total_spending_fen": 30 * W,
    }
    exempt = check_ratios(data(management_costs_fen=20 * W - 1, **args))
    assert exempt.management_exempt and exempt.ok
    assert any("exempt" in line for line in exempt.explanation)
    not_exempt = check_ratios(data(management_costs_fen=20 * W, **args))
    assert not not_exempt.management_exempt and not not_exempt.management_ok


def test_three_year_average_rescues_a_failing_year(app_request):
    failing = data(last_year_income_fen=2000 * W, charitable_spending_fen=700 * W)
    assert not check_ratios(failing).spending_ok
    rescued = check_ratios(
        data(
            last_year_income_fen=2000 * W,
            charitable_spending_fen=700 * W,
            avg_income_3y_fen=1000 * W,
        )
    )
    assert rescued.spending_ok and rescued.used_average
    assert any("three-year" in line for line in rescued.explanation)
