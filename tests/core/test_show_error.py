"""charity.web.forms.show_error: the one way a view puts a domain error on its form
(issue 19 point 4)."""

from __future__ import annotations

from flask import get_flashed_messages
from flask_babel import force_locale
from wtforms import StringField

from charity.core.errors import DomainError
from charity.services.campaigns import CampaignError
from charity.services.organizations import OrganizationError
from charity.web.forms import BaseForm, show_error
from charity.web.i18n import N_


class _Form(BaseForm):
    class Meta:
        csrf = False

    email = StringField()
    name = StringField()


def test_a_field_error_goes_on_its_field_translated(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        form = _Form()
        unplaced = show_error(form, OrganizationError(N_("Use at least 10 characters."), "email"))
        assert form.email.errors == ["请至少使用 10 个字符。"]
        assert not form.name.errors and unplaced == []
        assert get_flashed_messages() == []


def test_an_error_without_a_field_is_flashed_by_default(app):
    with app.test_request_context(), force_locale("en"):
        form = _Form()
        show_error(form, DomainError(N_("The file is empty.")))
        assert get_flashed_messages(with_categories=True) == [("error", "The file is empty.")]
        assert form.form_errors == []


def test_an_unknown_field_counts_as_the_whole_form(app):
    with app.test_request_context(), force_locale("en"):
        form = _Form()
        unplaced = show_error(
            form, DomainError(N_("The file is empty."), "data"), whole_form="form"
        )
        assert form.form_errors == ["The file is empty."] == unplaced
        assert get_flashed_messages() == []


def test_fallback_field_and_returned_messages(app):
    with app.test_request_context(), force_locale("en"):
        form = _Form()
        show_error(form, DomainError(N_("The file is empty.")), fallback_field="name")
        assert form.name.errors == ["The file is empty."]
        form = _Form()
        error = CampaignError.many(
            [("email", N_("Enter a valid email address.")), (None, N_("The file is empty."))]
        )
        assert show_error(form, error, whole_form=None) == ["The file is empty."]
        assert form.email.errors == ["Enter a valid email address."]
        assert get_flashed_messages() == [] and form.form_errors == []


def test_no_view_keeps_its_own_error_mapping_helper():
    """The eight helpers under six names are gone (one helper: show_error)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "charity"
    pattern = re.compile(
        r"def (_field_error|_add_error|_apply_errors?|_show_error|_form_error|field_error)\("
    )
    found = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert found == []
