"""The per-type disclosure forms (WTForms), built from the field specs of
charity.compliance.rules.fields.

A ``fen0`` field is typed in yuan (:class:`FenField`), the others map to an integer, date,
checkbox or text field; :func:`fields_from_form` turns a validated form back into the
JSON-ready values the service stores.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from charity.compliance.rules.fields import FIELDS, FieldSpec
from charity.core.money import AmountError, parse_yuan
from charity.web.forms import BaseForm


class FenField(StringField):
    """A yuan amount (zero allowed) typed by a person; ``.fen`` holds integer fen."""

    fen: int | None = None

    def process_data(self, value):  # type: ignore[no-untyped-def]
        # Pre-filled drafts pass fen; show them as yuan.
        self.data = f"{value / 100:.2f}" if isinstance(value, int) else value

    @staticmethod
    def parse(text: str) -> int | None:
        """Yuan typed by a person as fen (zero allowed); None when it is not an amount."""
        text = str(text).strip()
        if text in ("0", "0.0", "0.00"):
            return 0
        try:
            return parse_yuan(text)
        except AmountError:
            return None

    def pre_validate(self, form) -> None:  # type: ignore[no-untyped-def]
        self.fen = self.parse(self.data) if self.data else None
        if self.data and self.fen is None:
            raise ValidationError(
                _l("Enter an amount in yuan, zero or more, with at most two decimals.")
            )


def _field_for(spec: FieldSpec):  # type: ignore[no-untyped-def]
    required = [InputRequired()] if spec.required else [Optional()]
    if spec.kind == "fen0":
        return FenField(spec.label, validators=[DataRequired()] if spec.required else [])
    if spec.kind == "int":
        return IntegerField(spec.label, validators=[*required, NumberRange(min=0, max=10**9)])
    if spec.kind == "date":
        return DateField(spec.label, validators=required)
    if spec.kind == "bool":
        return BooleanField(spec.label)
    return TextAreaField(spec.label, validators=[*required, Length(max=5000)])


class DisclosureFormBase(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=50_000)])
    attachments = MultipleFileField(_l("PDF attachments (at most 5, 10 MB each)"))


_form_classes: dict[tuple[str, bool], type] = {}


def form_class(disclosure_type: str, correction: bool = False) -> type:
    """The WTForms class of one type (cached): its structured fields plus title and body."""
    key = (disclosure_type, correction)
    if key not in _form_classes:
        attrs = {spec.name: _field_for(spec) for spec in FIELDS[disclosure_type]}
        if correction:
            attrs["correction_note"] = TextAreaField(
                _l("Correction note (what changed and why)"),
                validators=[DataRequired(), Length(max=2000)],
            )
        _form_classes[key] = type(f"{disclosure_type}_form", (DisclosureFormBase,), attrs)
    return _form_classes[key]


def fields_from_form(disclosure_type: str, form: Any) -> dict[str, Any]:
    """The validated structured fields as JSON-ready values (fen as int, dates ISO)."""
    values: dict[str, Any] = {}
    for spec in FIELDS[disclosure_type]:
        field = form[spec.name]
        if spec.kind == "fen0":
            value: Any = field.fen
        elif spec.kind == "date":
            value = field.data.isoformat() if field.data else None
        elif spec.kind == "bool":
            value = bool(field.data)
        else:
            value = field.data if field.data not in ("", None) else None
        if value is not None:
            values[spec.name] = value
    return values
