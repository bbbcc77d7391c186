"""Language: Simplified Chinese by default, English one click away."""

from __future__ import annotations

import pytest
from flask_babel import get_locale

from charity.web.i18n import N_, select_locale


def _lang(response) -> str:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.chinese
def test_default_is_simplified_chinese(client, db_session):
    assert _lang(client.get("/")) == "zh-Hans"
    assert _lang(client.get("/account/login")) == "zh-Hans"


@pytest.mark.chinese
def test_an_english_browser_does_not_flip_the_site(client, db_session):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(response) == "zh-Hans"


def test_switch_to_english_and_back(client, db_session):
    response = client.get("/lang/en?next=/account/login", follow_redirects=True)
    assert _lang(response) == "en"
    assert "Log in" in response.get_data(as_text=True)
    assert _lang(client.get("/account/signup")) == "en"  # remembered in the session
    response = client.get("/lang/zh_Hans_CN?next=/", follow_redirects=True)
    assert _lang(response) == "zh-Hans"
    assert _lang(client.get("/")) == "zh-Hans"


def test_query_parameter_switches_and_is_remembered(client, db_session):
    assert _lang(client.get("/?lang=en")) == "en"
    assert _lang(client.get("/")) == "en"


@pytest.mark.chinese
def test_the_header_offers_the_other_language(client, db_session):
    assert 'href="/lang/en' in client.get("/").get_data(as_text=True)
    assert 'href="/lang/zh_Hans_CN' in client.get("/?lang=en").get_data(as_text=True)


@pytest.mark.chinese
def test_unknown_language_is_ignored(client, db_session):
    assert _lang(client.get("/?lang=fr")) == "zh-Hans"
    response = client.get("/lang/xx?next=/", follow_redirects=True)
    assert _lang(response) == "zh-Hans"


def test_locale_in_a_request(app):
    for query, expected in (("", "zh_Hans_CN"), ("?lang=en", "en"), ("?lang=de", "zh_Hans_CN")):
        # a fresh application context: Flask-Babel caches the locale on ``g``
        with app.app_context(), app.test_request_context("/" + query):
            assert str(get_locale()) == expected


def test_locale_outside_a_request_is_the_default(app):
    """CLI commands and jobs have no request: the default language, no error."""
    assert select_locale() == "zh_Hans_CN"


def test_n_marks_without_translating():
    assert N_("Wrong email or password.") == "Wrong email or password."
