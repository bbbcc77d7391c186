"""The log for people (issue 17 point 6): every entry type has a sentence saying what was
recorded, shown in Chinese above the technical details; hashes and JSON stay inside the
"技术细节" disclosure."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from charity.blueprints.auditlog_pages import event_types
from charity.core.events import record_event
from charity.web.labels import EVENT_LABELS
from charity.web.log_words import EVENT_EXPLANATIONS, event_explanation
from tests.support.factories import OrganizationFactory

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]+ [a-z]+ [a-z]+\b")


def test_every_entry_type_has_its_sentence():
    types = set(event_types()) | set(EVENT_LABELS)
    assert sorted(types - set(EVENT_EXPLANATIONS)) == []


def test_every_sentence_is_translated(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for code in EVENT_EXPLANATIONS:
            text = event_explanation(code)
            assert CJK.search(text) and not ENGLISH_WORDS.search(text), (code, text)


@pytest.mark.chinese
def test_the_entry_page_says_what_was_recorded_before_the_details(client, db_session):
    organization = OrganizationFactory()
    [index] = record_event(db_session, "organization.verified", subject_id=organization.id)
    html = client.get(f"/log/{index}").get_data(as_text=True)
    with force_locale("zh_Hans_CN"):
        sentence = event_explanation("organization.verified")
    details = html.index('<details class="technical">')
    assert 0 < html.index(sentence) < details
    assert "<summary>技术细节</summary>" in html
    assert html.index('<code class="hash">') > details  # the leaf hash only inside
    assert html.index('id="payload-exact"') > details
