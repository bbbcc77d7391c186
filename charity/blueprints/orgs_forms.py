"""Forms of the organizations area: application, directory filters, members, review."""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import urlsplit

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from charity.core import regions
from charity.services import organizations as service
from charity.web.forms import BaseForm
from charity.web.labels import ORG_TYPE_LABELS

ROLE_LABELS = {"owner": _l("Owner"), "finance": _l("Finance"), "editor": _l("Editor")}
STATUS_LABELS = {
    "pending": _l("Pending review"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
}


def is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language != "zh"


def _choices(pairs) -> list[SelectChoice]:  # type: ignore[no-untyped-def]
    return [SelectChoice(value, label) for value, label in pairs]


def _province_choices(blank: str) -> list[SelectChoice]:
    return _choices([("", blank), *regions.province_choices(english=is_english())])


def _check_uscc(form, field) -> None:  # type: ignore[no-untyped-def]
    try:
        service.org_type_from_uscc(field.data or "")
    except service.OrganizationError as error:
        raise ValidationError(error.text()) from None


def _check_website(form, field) -> None:  # type: ignore[no-untyped-def]
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in field.data:
        raise ValidationError(_l("Enter a web address starting with http:// or https://."))


class ApplicationForm(BaseForm):
    name = StringField(_l("Registered name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(
        _l("Unified social credit code (USCC)"),
        validators=[DataRequired(), Length(max=40), _check_uscc],
    )
    registration_authority = StringField(
        _l("Registration authority"), validators=[DataRequired(), Length(max=200)]
    )
    registered_on = DateField(
        _l("Date of registration or recognition as a charitable organization"),
        validators=[InputRequired()],
    )
    province = SelectField(_l("Province"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=64)])
    district = StringField(_l("District or county"), validators=[Optional(), Length(max=64)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=100)])
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^\+?[0-9][0-9 ()-]{4,39}$", message=_l("Enter a phone number (digits).")),
        ],
    )
    contact_email = EmailField(
        _l("Contact email"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300), _check_website])
    description_md = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=20000)]
    )
    qualification_number = StringField(
        _l("Certificate number"), validators=[Optional(), Length(max=100)]
    )
    qualification_authority = StringField(
        _l("Issuing authority"), validators=[Optional(), Length(max=200)]
    )
    qualification_date = DateField(_l("Date of issue"), validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.province.choices = _province_choices(str(_l("Choose a province")))

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        if self.qualification_date.errors:
            return False
        try:
            service.check_qualification(
                self.qualification_number.data or "",
                self.qualification_authority.data or "",
                self.qualification_date.data,
            )
        except service.OrganizationError as error:
            self._qualification_error(error)
            return False
        return ok

    def _qualification_error(self, error: service.OrganizationError) -> None:
        if error.field == "qualification_date" and self.qualification_date.data:
            self.qualification_date.errors = [*self.qualification_date.errors, error.text()]
            return
        for name in service.QUALIFICATION_FIELDS:
            field = getattr(self, name)
            if not field.data:
                field.errors = [*field.errors, error.text()]

    def command(self) -> service.ApplicationData:
        names = [f.name for f in fields(service.ApplicationData)]
        values = {name: getattr(self, name).data for name in names}
        for name, value in values.items():
            if value is None and name not in ("qualification_date", "registered_on"):
                values[name] = ""
        return service.ApplicationData(**values)


class DirectoryForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or USCC"), validators=[Optional(), Length(max=100)])
    province = SelectField(_l("Province"), validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    qualified = SelectField(
        _l("Public fundraising qualification"),
        choices=_choices([("", _l("Any")), ("yes", _l("Qualified")), ("no", _l("Not qualified"))]),
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.province.choices = _province_choices(str(_l("All provinces")))
        self.type.choices = _choices([("", _l("All types")), *ORG_TYPE_LABELS.items()])

    def query(self) -> service.DirectoryQuery:
        return service.DirectoryQuery(
            text=self.q.data or "",
            province=self.province.data or "",
            org_type=self.type.data or "",
            qualified=self.qualified.data or "",
        )

    def active_filters(self) -> dict[str, str]:
        """The non-empty filters, for pagination links."""
        return {f.name: f.data for f in self if f.data}


def _role_field() -> SelectField:
    return SelectField(
        _l("Role"), choices=_choices(ROLE_LABELS.items()), validators=[DataRequired()]
    )


class InviteForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = _role_field()


class RoleForm(BaseForm):
    role = _role_field()


class ConfirmForm(BaseForm):
    """A button that only needs the CSRF token (remove a member, accept an invitation)."""


class ReviewForm(BaseForm):
    decision = RadioField(
        _l("Decision"),
        choices=_choices([("approve", _l("Approve")), ("reject", _l("Reject"))]),
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        _l("Reason (shown to the applicant; required to reject)"),
        validators=[Optional(), Length(max=2000)],
    )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        if self.decision.data == "reject" and not (self.reason.data or "").strip():
            self.reason.errors = [*self.reason.errors, _l("Give the applicant a reason.")]
            return False
        return ok


class PaymentAccountForm(BaseForm):
    stripe_account_id = StringField(
        _l("Stripe account id"), validators=[DataRequired(), Length(max=64)]
    )
