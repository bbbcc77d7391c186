"""What the browser tests do to pages: log in, run axe, measure overflow, take screenshots."""

from __future__ import annotations

from pathlib import Path

from charity.demo import DEMO_PASSWORD
from tests.browser.conftest import SCREENSHOTS

#: axe impacts that fail a test
BLOCKING = ("serious", "critical")

_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " -> " + n.failureSummary),
  }));
}"""


def axe_violations(page, axe_js: Path) -> list[dict]:  # type: ignore[no-untyped-def]
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_js))
    return [v for v in page.evaluate(_RUN_AXE) if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines += [f"    {node}" for node in violation["nodes"]]
    return "\n".join(lines)


def overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How many CSS pixels the document is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def widest_elements(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The elements sticking out to the right, to say what broke the layout."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 8)
            .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                      + ' right=' + Math.round(e.getBoundingClientRect().right))"""
    )


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    size = page.viewport_size
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, live, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log in through the real form; the header then shows the account link."""
    page.goto(live.path("auth.login"))
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    account = live.path("auth.account")
    assert page.locator(f'header a[href="{account}"]').count() >= 1, page.url
