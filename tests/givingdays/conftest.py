"""Giving-day fixtures: an event running today (CST) with an accepted campaign, a pool,
and gifts that succeed through the real ``donations.confirm_payment`` with the
PaymentIntent a provider would report (refunds through ``record_provider_refund``, the
path of a refund seen in a provider's notification)."""

from __future__ import annotations

import pytest

from tests.support.givingdays import Day, make_day


@pytest.fixture
def day(db_session) -> Day:  # type: ignore[no-untyped-def]
    return make_day()
