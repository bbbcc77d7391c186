"""Language selection: Simplified Chinese first, English on request."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from charity.core.notifications import is_notification
from charity.extensions import babel

LANG_SESSION_KEY = "lang"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a msgid for extraction without translating it here (pybabel's default keyword).

    Services raise errors with such msgids; views translate them with ``_()``, and the CLI
    prints them as they are.
    """
    return message


def select_locale() -> str:
    """An explicit choice (?lang= or the saved session value) wins; then the default.

    The browser's Accept-Language is deliberately not consulted: the platform's
    audience is Chinese first and an English browser on a shared phone should not
    flip the site; the language switch in the header is one click away.
    """
    supported = _supported()
    if not has_request_context():  # CLI commands and background jobs
        return supported[0]
    chosen = request.args.get("lang") or session.get(LANG_SESSION_KEY)
    if chosen in supported:
        return chosen
    return supported[0]


def _supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )

    @app.before_request
    def _remember_language() -> None:
        if is_notification():  # a provider's server: no session, no language
            return
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"]:
            session[LANG_SESSION_KEY] = lang

    @app.context_processor
    def _language_context() -> dict:
        locale = get_locale()
        html_lang = "zh-Hans" if locale and locale.language == "zh" else "en"
        return {"html_lang": html_lang, "languages": app.config["LANGUAGES"]}
