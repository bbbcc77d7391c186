"""One language at a time (issue 17 point 2): the demo's pages, crawled as each role in
the Chinese default, show no English sentence, no raw code (``donation.succeeded``,
``(succeeded)``, ``major_transaction``, ``reported_fen``) and no amount in fen; CSV exports
meant for people have Chinese headings and yuan amounts."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlparse

import pytest

from charity.demo import load_demo_data
from charity.models import User
from charity.services.accounts import find_user_by_email
from tests.support.pages import RAW_CODE, PageText, problems_in_text

ROLES = (
    None,
    "admin@demo.charity",
    "regulator@demo.charity",
    "donor@demo.charity",
    "gdfoundation-owner@demo.charity",
    "gdfoundation-finance@demo.charity",
    "yuexiu-owner@demo.charity",
    "yuexiu-committee@demo.charity",
    "scapplicant-owner@demo.charity",
)
START = (
    "/",
    "/account/",
    "/account/gifts",
    "/orgs/mine",
    "/admin/organizations",
    "/regulator/",
    "/log/",
    "/compliance/rules",
)
#: machine-readable exports keep codes and fen on purpose, and say so in their name.
MACHINE_READABLE = re.compile(r"[-.]machine\.|\.json$|/api/")


def _followable(href: str) -> str | None:
    parsed = urlparse(href)
    if parsed.netloc or not parsed.path.startswith("/") or parsed.path.startswith("/lang/"):
        return None
    if parsed.path.startswith(("/static/", "/api/", "/metrics")) or "logout" in parsed.path:
        return None
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def _problems_in_csv(body: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    if not rows:
        return []
    found = [f"header {cell!r}" for cell in rows[0] if re.search(r"[A-Za-z]", cell)]
    return found + [f"cell {cell!r}" for row in rows[1:] for cell in row if RAW_CODE.search(cell)]


def crawl(client, limit: int = 300) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """url -> what is wrong there, for every page reachable from START."""
    queue, seen, wrong = list(START), set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code < 500, url
        kind = response.headers.get("Content-Type", "")
        if response.status_code >= 300:
            continue
        if "text/csv" in kind and not MACHINE_READABLE.search(url):
            if found := _problems_in_csv(response.get_data(as_text=True)):
                wrong[url] = found
            continue
        if "text/html" not in kind:
            continue
        page = PageText()
        page.feed(response.get_data(as_text=True))
        if found := problems_in_text(" ".join(page.text)):
            wrong[url] = found
        queue += [link for href in page.links if (link := _followable(href)) not in seen and link]
    return wrong


@pytest.mark.chinese
@pytest.mark.parametrize("email", ROLES)
def test_the_demo_speaks_chinese_only(client, db_session, login, email):
    list(load_demo_data())
    if email:
        user = find_user_by_email(db_session, email)
        assert isinstance(user, User)
        login(user)
    wrong = crawl(client)
    assert wrong == {}, "\n".join(f"{url}: {found}" for url, found in sorted(wrong.items()))


def test_the_checks_see_raw_codes_and_english():
    assert problems_in_text("状态 (succeeded) 事件 donation.succeeded 列 reported_fen")
    assert problems_in_text("Your card was declined by the bank.")
    assert not problems_in_text("联系邮箱 a.b@demo.charity 网址 https://x.example.org/a_b 1.2.3")
    assert _problems_in_csv("period,reported_fen\n2026,100\n")
    assert not _problems_in_csv("期间,金额（元）\n2026,1.00\n")


def test_every_registered_event_type_has_words():
    """A new event type without a label would show as 其他 in the log's filter."""
    from charity.blueprints.auditlog_pages import event_types
    from charity.web.labels import EVENT_LABELS

    assert sorted(set(event_types()) - set(EVENT_LABELS)) == []
