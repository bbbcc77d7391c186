"""Every key page: no serious or critical axe-core violation at phone and desktop size, no
horizontal scroll from 320 to 1440 px, no console error or CSP violation, and screenshots."""

from __future__ import annotations

import pytest

from tests.browser.helpers import log_in, overflow, resize, screenshot, widest_elements
from tests.browser.pages import KEY_PAGES, KeyPage
from tests.support.browser import DESKTOP, PHONE, WIDTHS, axe_violations, describe


def resolve(live, key: KeyPage) -> str:  # type: ignore[no-untyped-def]
    values = {}
    if key.values is not None:
        with live.db() as session:
            values = key.values(session)
    return live.path(key.endpoint, **values)


@pytest.mark.parametrize("key", KEY_PAGES, ids=lambda key: key.name)
def test_key_page_is_accessible_and_fits_every_width(key, live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    path = resolve(live_server, key)
    page = new_context(bypass_csp=True).new_page()  # axe is injected as a script tag
    if key.login:
        log_in(page, live_server, key.login)
    response = page.goto(path)
    assert response.status == key.status

    problems = []
    for size in (DESKTOP, PHONE):
        resize(page, size)
        violations = axe_violations(page, axe_js)
        if violations:
            problems.append(f"axe at {size['width']}px:\n{describe(violations)}")
        screenshot(page, key.name)
    for width in WIDTHS:
        resize(page, {"width": width, "height": 900})
        if overflow(page):
            problems.append(
                f"horizontal scroll at {width}px ({overflow(page)}px too wide): "
                + ", ".join(widest_elements(page))
            )
    assert not problems, f"{key.name} ({path}):\n" + "\n".join(problems)


def test_key_pages_load_without_console_errors_or_csp_violations(live_server, new_context):  # type: ignore[no-untyped-def]
    """The CSP is enforced here (no bypass): an inline script or style would be reported as a
    console error, which the new_context fixture turns into a failure."""
    pages = {}
    checked = []
    for key in KEY_PAGES:
        if key.login not in pages:
            pages[key.login] = new_context().new_page()
            if key.login:
                log_in(pages[key.login], live_server, key.login)
        response = pages[key.login].goto(resolve(live_server, key))
        assert response.status == key.status, key.name
        checked.append(key.name)
    assert "home" in checked
