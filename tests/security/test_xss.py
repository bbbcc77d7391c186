"""An XSS corpus through every Markdown and free-text field renders inert on every page that
shows it: no script, no event handler, no javascript: link, no frame or style injected."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from charity.extensions import db
from charity.models import CampaignUpdate
from charity.models.base import utcnow
from tests.support.api import make_donation
from tests.support.factories import CampaignFactory, MembershipFactory, QualifiedOrganizationFactory
from tests.support.factories import UserFactory as Users

CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    "<iframe src=//evil.example>",
    "<style>body{display:none}</style>",
    "'';!--\"<XSS>=&{()}",
    "<base href=//evil.example/>",
    "[x](JaVaScRiPt:alert(1))",
    "<object data=x>",
]
PAYLOAD = "\n\n".join(CORPUS)
SHORT = '"><img src=x onerror=alert(1)><script>alert(1)</script>'


class _Inspector(HTMLParser):
    DANGEROUS_TAGS = frozenset(
        {"iframe", "object", "embed", "style", "base", "frame", "applet", "xss"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in self.DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith(("/static/", "http://127.0.0.1", "https://js.stripe.com")):
                self.problems.append(f"<script src={src!r}>")
            self._in_script = True
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "data"):
                scheme = "".join((value or "").split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_script and data.strip():
            self.problems.append("inline script content")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "script":
            self._in_script = False


def problems_in(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    return inspector.problems


@pytest.fixture
def hostile_world(db_session):  # type: ignore[no-untyped-def]
    owner = Users(name=SHORT)
    org = QualifiedOrganizationFactory(
        name="慈善会" + SHORT, description_md=PAYLOAD, address=SHORT, contact_name=SHORT,
        registration_authority=SHORT, qualification_authority=SHORT,
        website='https://example.org/"><script>alert(1)</script>',
    )  # fmt: skip
    pending = QualifiedOrganizationFactory(
        name="待审" + SHORT, description_md=PAYLOAD, status="pending"
    )
    MembershipFactory(user=owner, organization=org, role="owner")
    text_fields = ("summary", "region", "person_in_charge", "acceptance_methods",
                   "receiving_account", "beneficiaries", "use_of_funds", "fundraising_cost",
                   "leftover_plan")  # fmt: skip
    campaign = CampaignFactory(
        organization=org, title="午餐" + SHORT[:60], purpose_md=PAYLOAD,
        **{name: SHORT for name in text_fields},
    )  # fmt: skip
    db.session.add(
        CampaignUpdate(campaign=campaign, title=SHORT, body_md=PAYLOAD, posted_at=utcnow())
    )
    make_donation(campaign, 10_000, is_anonymous=False, consent_show_name=True,
                  donor_name=SHORT[:100], message=PAYLOAD)  # fmt: skip
    db.session.flush()
    admin = Users(platform_role="admin", name=SHORT)
    return {"owner": owner, "admin": admin, "org": org, "pending": pending, "campaign": campaign}


PAGES = [
    ("anonymous", "/"),
    ("anonymous", "/orgs/"),
    ("anonymous", "/orgs/?q=慈善会"),
    ("anonymous", "/orgs/{org}"),
    ("anonymous", "/campaigns/"),
    ("anonymous", "/campaigns/?q=午餐"),
    ("anonymous", "/campaigns/{campaign}"),
    ("anonymous", "/api/"),
    ("owner", "/account/"),
    ("owner", "/orgs/mine"),
    ("owner", "/orgs/{org}/manage"),
    ("owner", "/orgs/{org}/members"),
    ("owner", "/orgs/{org}/campaigns"),
    ("owner", "/campaigns/{campaign}"),
    ("admin", "/admin/organizations"),
    ("admin", "/admin/organizations/{pending}"),
    ("admin", "/orgs/{pending}"),
]


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_hostile_text_renders_inert(client, login, hostile_world, who, path):
    if who != "anonymous":
        login(hostile_world[who])
    url = path.format(**{k: getattr(v, "id", v) for k, v in hostile_world.items()})
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    assert problems_in(html) == [], url


def test_the_inspector_catches_live_markup():
    """The checker itself can fail: raw payloads are flagged."""
    for payload in ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
                    '<a href=" javascript:alert(1)">x</a>', "<iframe src=x>",
                    "<svg onload=alert(1)>"):  # fmt: skip
        assert problems_in(payload), payload


def test_the_payload_is_really_shown_escaped(client, hostile_world):
    html = client.get(f"/orgs/{hostile_world['org'].id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_api_serves_hostile_text_as_json_only(client, hostile_world):
    response = client.get(f"/api/v1/organizations/{hostile_world['org'].id}")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["description_md"] == PAYLOAD
