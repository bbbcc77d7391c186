"""charity.core.errors: one base for domain errors, one constructor order, one way to read
the message (issue 19 point 4)."""

from __future__ import annotations

import inspect

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from charity.core.errors import DomainError
from charity.services import (
    accounts,
    campaigns,
    complaints,
    disbursements,
    donations,
    funds,
    givingdays,
    major_transactions,
    official_receipts,
    organizations,
    projects,
    trusts,
    uploads,
)
from charity.web.i18n import N_

DOMAIN_ERRORS = [
    accounts.AccountError,
    campaigns.CampaignError,
    complaints.ComplaintError,
    disbursements.DisbursementError,
    donations.DonationError,
    funds.FundError,
    givingdays.GivingDayError,
    major_transactions.MajorTransactionError,
    official_receipts.OfficialReceiptError,
    organizations.OrganizationError,
    projects.ProjectError,
    trusts.TrustError,
    uploads.UploadError,
]


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_takes_message_then_field(cls):
    assert issubclass(cls, DomainError)
    error = cls(N_("Enter a valid email address."), "email")
    assert (error.message, error.field, error.params) == (
        "Enter a valid email address.",
        "email",
        {},
    )
    assert "__init__" not in vars(cls), "one constructor: DomainError's"


def test_no_service_error_defines_its_own_constructor_order():
    for cls in DOMAIN_ERRORS:
        signature = inspect.signature(cls)
        assert list(signature.parameters)[:2] == ["message", "field"], cls


def test_text_translates_a_msgid_with_params(app):
    error = major_transactions.MajorTransactionError(
        N_("Too long: at most %(n)s characters."), "summary", n=200
    )
    with app.test_request_context():
        with force_locale("en"):
            assert error.text() == "Too long: at most 200 characters."
        with force_locale("zh_Hans_CN"):
            assert error.text() == "内容过长：最多 200 个字符。"


def test_text_reads_a_lazy_string_in_the_request_language(app):
    error = organizations.OrganizationError(_l("Choose a province from the list."), "province")
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert error.text() == "请从列表中选择省份。"
        assert error.problems() == [("province", error.text())]


def test_many_keeps_every_field_and_the_first_as_the_error(app):
    error = campaigns.CampaignError.many(
        [("title", N_("Enter a name of at most 100 characters.")), (None, _l("The file is empty."))]
    )
    assert isinstance(error, campaigns.CampaignError)
    assert error.field == "title"
    with app.test_request_context(), force_locale("en"):
        assert error.problems() == [
            ("title", "Enter a name of at most 100 characters."),
            (None, "The file is empty."),
        ]
    assert "; " in str(error)
