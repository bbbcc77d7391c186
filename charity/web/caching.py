"""A short-lived cache of rendered public pages, for anonymous visitors only.

A campaign page is the same for every anonymous visitor who reads it in the same language,
so on a giving day it is rendered once per ``PAGE_CACHE_SECONDS`` (default 3 s: totals at
most that old) instead of once per request. Members see a different page (management
links, the update form with their CSRF token) and always get a fresh render; so does a
visitor with flashed messages waiting in the session.

Storage: this process's memory by default (each gunicorn worker renders a page at most
once per TTL), Redis when ``REDIS_URL`` is set (all workers and hosts share one render).
A Redis error is a cache miss, never an error page.

Cached responses carry ``ETag``, ``Last-Modified`` and ``Cache-Control: public,
max-age=<TTL>`` with ``Vary: Cookie``, so a CDN or proxy in front can serve them too and
a browser's conditional GET gets a 304.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from email.utils import formatdate

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from redis.exceptions import RedisError

from charity.ops.jobs import redis_connection

_EXTENSION_KEY = "charity.page_cache"
DEFAULT_TTL = 3.0


class MemoryPageCache:
    """Process-local, thread-safe, bounded (least recently stored out first). ``clock`` is
    monotonic seconds (tests pass their own: time-machine does not move ``time.monotonic``)."""

    def __init__(
        self, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisPageCache:
    """Shared by every worker and host; keys expire in Redis itself."""

    prefix = "charity:page:"

    def __init__(self, connection) -> None:  # type: ignore[no-untyped-def]
        self.connection = connection

    def get(self, key: str) -> bytes | None:
        try:
            return self.connection.get(self.prefix + key)
        except RedisError:
            current_app.logger.warning("page cache: Redis unavailable, rendering")
            return None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with contextlib.suppress(RedisError):  # the next request renders again
            self.connection.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    def clear(self) -> None:  # pragma: no cover - operators flush Redis themselves
        pass


def page_cache(app: Flask | None = None) -> MemoryPageCache | RedisPageCache:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(_EXTENSION_KEY)
    if cache is None:
        connection = redis_connection(app)
        cache = RedisPageCache(connection) if connection is not None else MemoryPageCache()
        app.extensions[_EXTENSION_KEY] = cache
    return cache


def cache_ttl() -> float:
    """Seconds a page may be reused: PAGE_CACHE_SECONDS, else 3 (0, i.e. off, under tests)."""
    default = 0 if current_app.testing else DEFAULT_TTL
    return float(current_app.config.get("PAGE_CACHE_SECONDS", default))


def anonymous_cacheable() -> bool:
    """This request may be answered with (and may fill) the shared anonymous page."""
    if request.method not in ("GET", "HEAD") or cache_ttl() <= 0:
        return False
    if current_user.is_authenticated:
        return False
    return "_flashes" not in session


def _pack(body: bytes, generated: float) -> bytes:
    return f"{generated:.3f}\n".encode() + body


def _unpack(value: bytes) -> tuple[float, bytes]:
    stamp, _, body = value.partition(b"\n")
    return float(stamp), body


def cached_page(name: str, render: Callable[[], str]) -> Response:
    """The anonymous page ``name`` in the visitor's language, rendered at most once per TTL.

    ``render`` returns the page's HTML or raises (abort(404) etc.): only successful
    renders are stored.
    """
    ttl = cache_ttl()
    key = f"{name}:{get_locale()}"
    cache = page_cache()
    stored = cache.get(key)
    if stored is None:
        g.shared_page = True  # templates leave out what is this visitor's (base.html)
        try:
            generated, body = time.time(), render().encode()
        finally:
            g.shared_page = False
        cache.set(key, _pack(body, generated), ttl)
    else:
        generated, body = _unpack(stored)
    response = Response(body, mimetype="text/html")
    response.set_etag(hashlib.blake2b(body, digest_size=12).hexdigest())
    response.headers["Last-Modified"] = formatdate(generated, usegmt=True)
    response.headers["Cache-Control"] = f"public, max-age={max(1, int(ttl))}"
    response.vary.add("Cookie")
    return response.make_conditional(request)


def private_page(response: Response) -> Response:
    """A page rendered for this visitor only: no shared cache may keep it."""
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response
