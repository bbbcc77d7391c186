"""The one base of domain errors: what a service refuses, and why, for the person to fix.

``DomainError(message, field=None, **params)``: every domain error class subclasses it and
takes its arguments in this order.

- ``message`` is what the person reads. Services follow one i18n convention: an English msgid
  marked with ``N_`` (translated when shown) or a ``lazy_gettext`` string (translated when
  read); either way ``text()`` gives the message in the request's language, with ``params``
  filled in (``%(name)s`` placeholders).
- ``field`` is the form field (or JSON parameter) it belongs to; None: the whole form.
- ``params`` fill the message's placeholders.

An error about several fields at once (a campaign plan with three problems) is built with
``DomainError.many([(field, message), ...])``; ``problems()`` lists ``(field, text)`` pairs
either way. Views show an error with ``charity.web.forms.show_error`` (a form) or
``charity.web.errors.json_error`` (an API), never by reading the attributes themselves.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext


def translate(message: Any, **params: Any) -> str:
    """A msgid (``N_``) translated, or a lazy string read, in the request's language."""
    if isinstance(message, str):
        return gettext(message, **params)
    text = str(message)
    return text % params if params else text


class DomainError(Exception):
    """A refusal with its message (msgid or lazy string), field and message parameters."""

    def __init__(self, message: Any, field: str | None = None, **params: Any) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.params = params
        self.errors: list[tuple[str | None, Any]] = [(field, message)]

    @classmethod
    def many(cls, errors: list[tuple[str | None, Any]]) -> DomainError:
        """One error about several fields: ``errors`` holds ``(field, message)`` pairs."""
        field, message = errors[0]
        error = cls.__new__(cls)
        DomainError.__init__(error, message, field)
        error.args = ("; ".join(str(m) for _f, m in errors),)
        error.errors = list(errors)
        return error

    def text(self) -> str:
        """The message in the request's language, placeholders filled."""
        return translate(self.message, **self.params)

    def problems(self) -> list[tuple[str | None, str]]:
        """Each ``(field, translated message)``; one pair unless built with ``many``."""
        if len(self.errors) == 1:
            return [(self.field, self.text())]
        return [(field, translate(message)) for field, message in self.errors]
