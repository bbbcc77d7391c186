"""Shared form pieces: clean strings, yuan amounts, and the base form."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from charity.core.errors import DomainError
from charity.core.money import AmountError, parse_yuan
from charity.core.text import has_forbidden_characters


class BaseForm(FlaskForm):
    """Every form: strips surrounding whitespace and refuses control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            filters = list(unbound_field.kwargs.get("filters", []))
            if issubclass(unbound_field.field_class, StringField):
                filters.append(_strip)
            return unbound_field.bind(form=form, filters=filters, **options)

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and has_forbidden_characters(field.data):
                field.errors = [*field.errors, _l("Contains characters that are not allowed.")]
                ok = False
        return ok


def _strip(value):  # type: ignore[no-untyped-def]
    return value.strip() if isinstance(value, str) else value


class YuanField(StringField):
    """A CNY amount typed in yuan; ``.fen`` holds the parsed integer fen."""

    fen: int | None = None

    def pre_validate(self, form) -> None:  # type: ignore[no-untyped-def]
        self.fen = None
        if not self.data:
            return
        try:
            self.fen = parse_yuan(self.data)
        except AmountError:
            raise ValidationError(
                _l("Enter an amount in yuan greater than zero, with at most two decimals.")
            ) from None


def show_error(
    form: FlaskForm,
    error: Exception,
    *,
    whole_form: str | None = "flash",
    fallback_field: str | None = None,
) -> list[str]:
    """Show a domain error (charity.core.errors.DomainError) on ``form``: each message, in
    the request's language, on the field it names (else ``fallback_field``, if given).
    Messages that fit no field are flashed (``whole_form="flash"``), added to
    ``form.form_errors`` (``"form"``) or only returned (None); the list is returned.

    The view decides whether the work so far is discarded (``uow.discard()``) before it
    shows the error: a failed log-in keeps its attempt.
    """
    if not isinstance(error, DomainError):
        error = DomainError(str(error))
    unplaced = []
    for name, message in error.problems():
        name = name if name and name in form else fallback_field
        field = form[name] if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            unplaced.append(message)
    for message in unplaced:
        if whole_form == "flash":
            flash(message, "error")
        elif whole_form == "form":
            form.form_errors.append(message)
    return unplaced
