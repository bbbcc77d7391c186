"""Demo data names only invented people (charity.demo.names), never a real public figure."""

from __future__ import annotations

import sqlalchemy as sa

from charity.demo import load_demo_data
from charity.demo.names import PEOPLE, REAL_PUBLIC_FIGURES, is_allowed
from charity.extensions import db
from charity.models import Campaign, Donation, FundCommitteeMember, Organization, User

#: Every column that holds a person's name.
PERSON_NAME_COLUMNS = (
    User.name,
    Organization.contact_name,
    Campaign.person_in_charge,
    FundCommitteeMember.name,
    Donation.donor_name,
)


def test_the_fictional_set_names_no_real_public_figure():
    assert not PEOPLE & REAL_PUBLIC_FIGURES
    assert "周永康" in REAL_PUBLIC_FIGURES and not is_allowed("周永康")


def test_every_person_in_the_demo_is_invented(db_session):
    list(load_demo_data())
    names = set()
    for column in PERSON_NAME_COLUMNS:
        names |= {name for name in db_session.scalars(sa.select(column)) if name}
    assert names, "the demo names people"
    assert sorted(name for name in names if not is_allowed(name)) == []


def test_no_real_public_figure_appears_anywhere_in_the_demo(db_session):
    list(load_demo_data())
    found = []
    for table in db.metadata.sorted_tables:
        text_columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
        for row in db_session.execute(sa.select(*text_columns)) if text_columns else ():
            for value in row:
                found += [f"{table.name}: {n}" for n in REAL_PUBLIC_FIGURES if n in (value or "")]
    assert found == []
