"""Funds fixtures: a verified host with finance staff and a fund with a linked committee.

The people of a fund (``people``), gifts posted to the ledger at chosen times and the other
helpers shared with the compliance tests are in tests/support/funds.py; giving through
Stripe (localstripe) is tested in test_giving.py with tests/support/payments.py.
"""

from __future__ import annotations

import pytest

from charity.extensions import db
from charity.models import Fund
from charity.services import funds
from charity.services.uploads import StoredFile, store_file
from tests.support.factories import second_person
from tests.support.funds import PDF, People, new_fund_command, seats


@pytest.fixture
def fund(people: People) -> Fund:
    created = funds.create_fund(
        db.session, people.owner, new_fund_command(people.host, seats(people.committee))
    )
    for user in people.committee:
        second_person(user, fund=created)
    return created


@pytest.fixture
def evidence(app) -> StoredFile:  # type: ignore[no-untyped-def]
    return store_file(app.config["UPLOAD_DIR"], PDF)
