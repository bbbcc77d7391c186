"""Browser-test helpers shared by the browser tests: the Chromium and the live server they
drive, viewport sizes, console-error capture, axe-core, and a donor's steps through the
giving pages.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, url_for

from tests.support import dbutil

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "browser"
CHROMIUM = Path(os.environ.get("CHARITY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
WIDTHS = (320, 390, 768, 1024, 1440)


def browser_required() -> bool:
    return os.environ.get("CHARITY_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail where the browser tests are required (CI)."""
    if browser_required():
        pytest.fail(f"{reason} (CHARITY_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


# --- the live server -------------------------------------------------------------------


@dataclass
class LiveServer:
    """The app served by werkzeug on 127.0.0.1 over its own committed SQLite database."""

    app: Flask
    url: str
    #: localstripe's base URL (None: it is not running)
    stripe_url: str | None = None
    #: the WeChat Pay and Alipay simulators' base URLs ("wechatpay", "alipay")
    wallets: dict = field(default_factory=dict)

    def path(self, endpoint: str, **values: object) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def __call__(self, endpoint: str, **values: object) -> str:
        return self.url + self.path(endpoint, **values)

    @contextlib.contextmanager
    def db(self) -> Iterator:
        """The live database's session, in an app context of the live app."""
        from charity.extensions import db

        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()


def skip_in_postgres_pass() -> None:
    every_pass = os.environ.get("CHARITY_BROWSER_EVERY_PASS", "") == "1"
    if dbutil.test_database_url().startswith("postgresql") and not every_pass:
        pytest.skip(
            "browser tests run once, in the SQLite pass (the live server has its own "
            "database; set CHARITY_BROWSER_EVERY_PASS=1 to run them here too)"
        )


def build_live_app(
    tmp: Path, stripe_url: str | None, wallets: dict[str, str] | None = None
) -> Flask:
    from flask_migrate import upgrade

    from charity import create_app
    from charity.demo import load_demo_data
    from config import TestingConfig

    stripe = {}
    if stripe_url:
        stripe = {"STRIPE_API_BASE": stripe_url, "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/"}
    if wallets:  # payments: the WeChat Pay and Alipay simulators
        stripe["WECHATPAY_API_BASE"] = wallets["wechatpay"]
        stripe["ALIPAY_GATEWAY"] = f"{wallets['alipay']}/gateway.do"
    app = create_app(
        TestingConfig(
            f"sqlite:///{tmp / 'live.sqlite3'}",
            UPLOAD_DIR=str(tmp / "uploads"),
            WTF_CSRF_ENABLED=True,  # real forms, real tokens
            **stripe,
        )
    )
    app.instance_path = str(tmp)
    with app.app_context():
        upgrade()
        list(load_demo_data())
        from charity.extensions import db

        if wallets:  # every verified demo organization takes WeChat Pay and Alipay too
            from charity.demo.payments import connect_simulators

            connect_simulators(db.session, wallets["wechatpay"], wallets["alipay"])
            db.session.commit()
        db.session.remove()
    return app


@contextlib.contextmanager
def running_wallet_simulators() -> Iterator[dict[str, str] | None]:
    """payments: the WeChat Pay and Alipay simulators (127.0.0.1, free ports, keys per run),
    delivering their notifications to the live server by themselves."""
    if not (ROOT / "scripts" / "wechatpay_simulator.py").exists():
        yield None
        return
    from tests.support.payments import running_simulator

    with running_simulator("wechatpay") as wechatpay, running_simulator("alipay") as alipay:
        yield {"wechatpay": wechatpay, "alipay": alipay}


@contextlib.contextmanager
def running_browser_localstripe() -> Iterator[str | None]:
    """The payments area's localstripe wrapper (127.0.0.1, free port, state per run)."""
    from tests.support.payments import running_localstripe

    with running_localstripe() as url:
        yield url


def register_webhook(stripe_url: str, app: Flask, app_url: str) -> None:
    """localstripe posts its events to the live server, signed like Stripe signs them."""
    data = urllib.parse.urlencode(
        {"url": f"{app_url}/stripe/webhook", "secret": app.config["STRIPE_WEBHOOK_SECRET"]}
    ).encode()
    request = urllib.request.Request(f"{stripe_url}/_config/webhooks/browser", data=data)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own 127.0.0.1 server
        pass


class ConsoleErrors(list):
    """Console errors, page errors, CSP violations and failed sub-resources (a page's own
    4xx status, such as a form returned with errors, is expected and not counted)."""

    def __init__(self) -> None:
        super().__init__()
        #: (status, URL fragment) of sub-resource failures a test expects, e.g. a decline
        self.expected: list[tuple[int, str]] = []

    def expect(self, status: int, url_part: str) -> None:
        self.expected.append((status, url_part))

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.append(f"console: {message.text} {message.location}")

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.status < 400 or response.request.resource_type == "document":
            return
        if not any(response.status == s and part in response.url for s, part in self.expected):
            self.append(f"{response.status} for {response.request.resource_type} {response.url}")


# --- axe-core ------------------------------------------------------------------------------


def install_axe() -> Path | None:
    """axe-core from npm into node_modules/ (gitignored), only when missing."""
    if AXE_JS.exists():
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        return None
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(ROOT)]
    subprocess.run(
        [*command, "axe-core@4"],
        check=False,
        capture_output=True,
        timeout=300,
    )
    return AXE_JS if AXE_JS.exists() else None


GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"


def find_campaign_from_home(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    campaign_link = page.locator("main a[href^='/campaigns/']").filter(
        has_not_text=re.compile(r"^\s*$")
    )
    cards = page.locator(".campaign-card h3 a")
    if cards.count():
        cards.first.click()
    else:  # no featured campaign: through the campaign list
        campaign_link.first.click()
        page.locator("main .campaign-card h3 a, main h2 a, main h3 a").first.click()
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    assert page.locator("main h1").inner_text().strip()


def fill_gift(page, name: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("a.campaign-donate").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/donate$"))
    page.check("input[name=amount][value='8800']")  # ¥88
    page.fill("#donor_name", name)
    page.fill("#donor_email", email)
    if page.locator("input[name=method][value='stripe']").count():
        page.check("input[name=method][value='stripe']")  # 银行卡 (wallets come first)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/donations/[^/]+/pay$"))


def pay_with_card(page, number: str) -> None:  # type: ignore[no-untyped-def]
    """Type the card into the card element (localstripe's stand-in renders plain inputs)."""
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("51000")
    page.click("#card-submit")


LAPTOP = {"width": 1280, "height": 900}
SIZES = pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1280x900", "390x844"])


def sized_context(new_context, size):  # type: ignore[no-untyped-def]
    return new_context(viewport=size, is_mobile=size is PHONE, has_touch=size is PHONE)


def assert_accessible(page, axe_js, name: str, exclude: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page, axe_js, exclude)
    assert not violations, f"{name}:\n{describe(violations)}"


#: axe impacts that fail a test
BLOCKING = ("serious", "critical")

_RUN_AXE = """async (exclude) => {
  const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document;
  const result = await axe.run(context, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " -> " + n.failureSummary),
  }));
}"""


def axe_violations(page, axe_js: Path, exclude: tuple[str, ...] = ()) -> list[dict]:  # type: ignore[no-untyped-def]
    """Serious and critical axe-core violations on the page as it is now.

    axe is injected with add_script_tag (contexts opened with bypass_csp=True); in a context
    where our CSP is enforced, that inline script would be refused, so there it is evaluated
    through the DevTools protocol instead, which the CSP does not govern.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        if getattr(page.context, "bypasses_csp", False):
            page.add_script_tag(path=str(axe_js))
        else:
            page.evaluate(axe_js.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate(_RUN_AXE, list(exclude))
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines += [f"    {node}" for node in violation["nodes"]]
    return "\n".join(lines)
