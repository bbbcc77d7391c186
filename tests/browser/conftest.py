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

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import dbutil
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    HERE,
    ConsoleErrors,
    LiveServer,
    build_live_app,
    install_axe,
    register_webhook,
    running_browser_localstripe,
    running_wallet_simulators,
    skip_in_postgres_pass,
    unavailable,
)


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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    skip_in_postgres_pass()
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in test output
    with running_browser_localstripe() as stripe_url, running_wallet_simulators() as wallets:
        app = build_live_app(tmp_path_factory.mktemp("live"), stripe_url, wallets)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        # Links that leave the site and come back (wallet return pages, mail links) are
        # built from PUBLIC_BASE_URL, never from the request's Host (issue 15 finding 2).
        app.config["PUBLIC_BASE_URL"] = url
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            if stripe_url:
                register_webhook(stripe_url, app, url)
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


@pytest.fixture(scope="session")
def axe_js() -> Path:
    path = install_axe()
    if path is None:
        unavailable("axe-core is missing and npm could not install it (npm install axe-core@4)")
    return path
