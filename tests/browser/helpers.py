"""What the browser tests do to pages: log in, run axe, measure overflow, take screenshots."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp

from charity.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.support.browser import SCREENSHOTS


def resize(page, size: dict) -> None:  # type: ignore[no-untyped-def]
    """Set the viewport and let the page react (resize handlers run before the next frames)."""
    page.set_viewport_size(size)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


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


#: session cookies per demo account, after its first real login through the form, and
#: when that session last entered a code (time.monotonic())
_SESSIONS: dict[tuple[str, str], tuple[list, float]] = {}
#: A reused session re-confirms with a fresh code when its last one is older than this,
#: so that sensitive actions (REAUTH_MAX_AGE_SECONDS, 600) do not ask for one mid-test.
_RECONFIRM_AFTER = 420


def fresh_code(live, email: str, secret: str = DEMO_TOTP_SECRET) -> str:  # type: ignore[no-untyped-def]
    """A code of the account's app not used yet: each code is accepted once (issue 15),
    so the next step after the last accepted one, inside the +-1 step drift window
    (waiting for the clock when all three are used)."""
    import sqlalchemy as sa

    from charity.models import User
    from charity.services import two_factor

    with live.db() as session:
        last = session.scalar(sa.select(User.totp_last_step).where(User.email == email))
    while True:
        current = int(time.time()) // two_factor.STEP_SECONDS
        # Never an earlier step than the current one: the clock may cross into the next
        # step before the server checks the code, and the step before would then be
        # outside the drift window (a flake about once in a hundred logins).
        step = max(current, (last or 0) + 1)
        if step <= current + two_factor.VALID_WINDOW:
            return pyotp.TOTP(secret).at(step * two_factor.STEP_SECONDS)
        time.sleep(1)


def enter_code(page, live, email: str, secret: str = DEMO_TOTP_SECRET) -> None:  # type: ignore[no-untyped-def]
    """On a two-factor page (the login's second step, or the re-authentication)."""
    page.fill("#code", fresh_code(live, email, secret))
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def log_in(page, live, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log in through the real form the first time (the header then shows the account link);
    later logins of the same account reuse its session cookie, which saves a second each."""
    if (live.url, email) in _SESSIONS:
        cookies, confirmed = _SESSIONS[(live.url, email)]
        page.context.add_cookies(cookies)
        if time.monotonic() - confirmed > _RECONFIRM_AFTER:
            page.goto(live.path("two_factor.confirm"))
            if page.locator("#code:not([type=password])").count():  # two-factor on
                enter_code(page, live, email)
            _SESSIONS[(live.url, email)] = (cookies, time.monotonic())
        return
    page.goto(live.path("auth.login"))
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if "/account/2fa/" in page.url:  # demo staff have two-factor on (charity.demo)
        enter_code(page, live, email)
        assert "/account/2fa/" not in page.url, f"the code was refused: {page.url}"
    account = live.path("auth.account")
    assert page.locator(f'header a[href="{account}"]').count() >= 1, page.url
    _SESSIONS[(live.url, email)] = (page.context.cookies(), time.monotonic())


#: Every chart in <main> (an <svg role="img">; the plots nested in them have no role) with
#: its box and its text elements:
#: the size each text renders at (computed font size × the scale the SVG applies to it,
#: which a fixed viewBox makes smaller than 1 on a phone) and its box on the screen.
_CHART_TEXT = """() => [...document.querySelectorAll('main svg[role=img]')].map(svg => {
  const box = svg.getBoundingClientRect();
  const title = svg.getAttribute('aria-label') || svg.querySelector('title').textContent;
  const texts = [...svg.querySelectorAll('text')].map(t => {
    const m = t.getScreenCTM(), r = t.getBoundingClientRect();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    return {text: t.textContent, px, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  return {title, width: box.width, left: box.left, right: box.right, top: box.top,
          bottom: box.bottom, texts};
})"""


def chart_text(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """The page's charts and how big their text is on screen (see _CHART_TEXT)."""
    return page.evaluate(_CHART_TEXT)


def chart_text_problems(chart: dict, minimum: float) -> list[str]:
    """Text smaller than ``minimum`` CSS px, sticking out of its chart, or overlapping
    another text of the same chart."""
    problems = [f"{t['text']!r} is {t['px']:.1f} px" for t in chart["texts"] if t["px"] < minimum]
    problems += [
        f"{t['text']!r} sticks out of the chart"
        for t in chart["texts"]
        if t["left"] < chart["left"] - 0.5
        or t["right"] > chart["right"] + 0.5
        or t["top"] < chart["top"] - 0.5
        or t["bottom"] > chart["bottom"] + 0.5
    ]
    texts = chart["texts"]
    for index, one in enumerate(texts):
        for other in texts[index + 1 :]:
            across = min(one["right"], other["right"]) - max(one["left"], other["left"])
            down = min(one["bottom"], other["bottom"]) - max(one["top"], other["top"])
            if across > 0.5 and down > 0.5:
                problems.append(f"{one['text']!r} overlaps {other['text']!r}")
    return problems


def open_verification_mail(page, live, email: str) -> None:  # type: ignore[no-untyped-def]
    """Open the link of the sign-up mail sent to ``email``, as its owner would (issue 15:
    a new account is logged in only once its address is confirmed). The live server runs
    in this process with the testing mail backend, so its mail is in ``mail.outbox``."""
    import re

    from charity.ops import mail

    for message in reversed(mail.outbox):
        if message["To"] == email:
            body = message.get_body(("plain",)).get_content()
            found = re.search(r"https?://[^/\s]+(/account/verify/\S+)", body)
            if found:
                with page.expect_navigation():
                    page.goto(live.url + found.group(1))
                return
    raise AssertionError(f"no verification mail to {email}")


#: For every visible table in <main>: is it readable? A table passes when it stacks as
#: cards (its rows are blocks) or sits in a box that scrolls sideways, and no cell is
#: squeezed: a cell narrower than 3 characters may only hold text that fits on one line.
TABLE_PROBLEMS = """() => {
  const problems = [];
  const tables = [...document.querySelectorAll('main table')].filter(t => t.offsetParent !== null);
  tables.forEach((table, n) => {
    const label = table.querySelector('caption')?.innerText || table.className || '#' + n;
    const name = label.trim().slice(0, 40);
    const right = table.getBoundingClientRect().right;
    const stacked = getComputedStyle(table.querySelector('tr') || table).display === 'block';
    let scroller = null;
    for (let e = table.parentElement; e && e !== document.body; e = e.parentElement) {
      const ox = getComputedStyle(e).overflowX;
      if (ox === 'auto' || ox === 'scroll') { scroller = e; break; }
    }
    if (!stacked && right > window.innerWidth + 1) {
      if (!scroller)
        problems.push(`${name}: ${Math.round(right)} px wide and not in a scrolling box`);
      else if (scroller.getBoundingClientRect().right > window.innerWidth + 1)
        problems.push(`${name}: its scrolling box is wider than the window`);
    }
    for (const cell of table.querySelectorAll('th, td')) {
      if (cell.offsetParent === null || !cell.innerText.trim()) continue;
      if (stacked && cell.closest('thead')) continue;  // kept for screen readers, clipped
      const style = getComputedStyle(cell);
      const em = parseFloat(style.fontSize);
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const inner = cell.clientWidth - padding;
      if (inner >= 3 * em - 1) continue;
      const range = document.createRange();
      range.selectNodeContents(cell);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      const tops = new Set(rects.map(r => Math.round(r.top)));
      if (tops.size > 1) {
        const text = cell.innerText.trim().slice(0, 20);
        const px = Math.round(inner);
        problems.push(`${name}: a ${px} px cell wraps "${text}" on ${tops.size} lines`);
        break;
      }
    }
  });
  return {count: tables.length, problems};
}"""
