"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

Where they run
    Once per `make test`, in the SQLite pass. The live server has its own SQLite file per
    session (migrated from empty and loaded with the demo data), so running the same
    journeys again in the PostgreSQL pass would double their time and test nothing new: the
    database behaviour they rely on is covered by the rest of the suite on both databases.
    Set CHARITY_BROWSER_EVERY_PASS=1 to run them in the PostgreSQL pass too.

Chromium
    /usr/bin/chromium (Debian's package; CHARITY_CHROMIUM overrides the path). Playwright
    never downloads a browser here. Without Chromium the tests are skipped with the reason,
    except where CHARITY_REQUIRE_BROWSER=1 (set by .ci/run): there they fail.

axe-core
    From npm into node_modules/ at the repository root (gitignored), installed on first use
    when missing (`npm install --no-save axe-core@4`), injected with add_script_tag(path=).

Artifacts
    Screenshots under test-artifacts/screenshots/ (gitignored), one per key page and size.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, url_for

from tests.support import dbutil

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
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


def _required() -> bool:
    return os.environ.get("CHARITY_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail where the browser tests are required (CI)."""
    if _required():
        pytest.fail(f"{reason} (CHARITY_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests; in the PostgreSQL pass deselect them (not skip): they run
    once, in the SQLite pass, since the live server has its own database either way."""
    every_pass = os.environ.get("CHARITY_BROWSER_EVERY_PASS", "") == "1"
    postgres_pass = dbutil.test_database_url().startswith("postgresql")
    kept, dropped = [], []
    for item in items:
        is_browser = HERE in Path(str(item.path)).parents
        if is_browser:
            item.add_marker(pytest.mark.browser)
        (dropped if is_browser and postgres_pass and not every_pass else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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


def _skip_in_postgres_pass() -> None:
    every_pass = os.environ.get("CHARITY_BROWSER_EVERY_PASS", "") == "1"
    if dbutil.test_database_url().startswith("postgresql") and not every_pass:
        pytest.skip(
            "browser tests run once, in the SQLite pass (the live server has its own "
            "database; set CHARITY_BROWSER_EVERY_PASS=1 to run them here too)"
        )


def _build_live_app(
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
def _wallet_simulators() -> Iterator[dict[str, str] | None]:
    """payments: the WeChat Pay and Alipay simulators (127.0.0.1, free ports, keys per run),
    delivering their notifications to the live server by themselves."""
    if not (ROOT / "scripts" / "wechatpay_simulator.py").exists():
        yield None
        return
    from tests.payments.conftest import running_simulator

    with running_simulator("wechatpay") as wechatpay, running_simulator("alipay") as alipay:
        yield {"wechatpay": wechatpay, "alipay": alipay}


@contextlib.contextmanager
def _localstripe() -> Iterator[str | None]:
    """The payments area's localstripe wrapper (127.0.0.1, free port, state per run), once
    that area has landed; None before."""
    script = ROOT / "scripts" / "localstripe_server.py"
    if not script.exists():
        yield None
        return
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--quiet"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise RuntimeError(f"localstripe did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def _register_webhook(stripe_url: str, app: Flask, app_url: str) -> None:
    """localstripe posts its events to the live server, signed like Stripe signs them."""
    data = urllib.parse.urlencode(
        {"url": f"{app_url}/stripe/webhook", "secret": app.config["STRIPE_WEBHOOK_SECRET"]}
    ).encode()
    request = urllib.request.Request(f"{stripe_url}/_config/webhooks/browser", data=data)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own 127.0.0.1 server
        pass


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    _skip_in_postgres_pass()
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in test output
    with _localstripe() as stripe_url, _wallet_simulators() as wallets:
        app = _build_live_app(tmp_path_factory.mktemp("live"), stripe_url, wallets)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        # Links that leave the site and come back (wallet return pages, mail links) are
        # built from PUBLIC_BASE_URL, never from the request's Host (issue 15 finding 2).
        app.config["PUBLIC_BASE_URL"] = url
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            if stripe_url:
                _register_webhook(stripe_url, app, url)
            yield LiveServer(app=app, url=url, stripe_url=stripe_url, wallets=wallets or {})
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            with app.app_context():
                from charity.extensions import db

                db.engine.dispose()


# --- Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator:
    if not CHROMIUM.exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


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


@pytest.fixture
def new_context(browser, live_server: LiveServer) -> Iterator[Callable]:  # type: ignore[no-untyped-def]
    """Open browser contexts (one per user); each fails the test on console errors."""
    opened: list = []
    errors = ConsoleErrors()

    def open_context(**options):  # type: ignore[no-untyped-def]
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "zh-CN")
        context = browser.new_context(base_url=live_server.url, **options)
        context.bypasses_csp = options.get("bypass_csp", False)  # read by axe_violations
        context.set_default_timeout(10_000)
        context.on("page", errors.watch)
        opened.append(context)
        return context

    open_context.errors = errors  # type: ignore[attr-defined]
    yield open_context
    for context in opened:
        context.close()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


@pytest.fixture
def page(new_context):  # type: ignore[no-untyped-def]
    return new_context().new_page()


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


@pytest.fixture(scope="session")
def axe_js() -> Path:
    path = install_axe()
    if path is None:
        unavailable("axe-core is missing and npm could not install it (npm install axe-core@4)")
    return path
