"""Links that leave the site (mail, feeds, provider return addresses) and safe ``next=``.

Every absolute link is built from the configured ``PUBLIC_BASE_URL``, never from the
request's Host header: ``Host: evil.example`` must not put evil.example into a password
reset mail. ``TRUSTED_HOSTS`` (Flask) refuses requests for other host names with 400.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for

#: When PUBLIC_BASE_URL is empty (development and tests only: production refuses to start).
FALLBACK_BASE_URL = "http://localhost/"


def site_root() -> str:
    """The site's public address with one trailing slash."""
    base = current_app.config.get("PUBLIC_BASE_URL") or FALLBACK_BASE_URL
    return base.rstrip("/") + "/"


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` on the public address."""
    path = url_for(endpoint, **values)
    return site_root() + path.lstrip("/")


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (the caller's default).

    Refuses absolute and scheme-relative URLs, backslashes and control characters
    (browsers drop tabs and newlines, so ``/\\t/evil.example`` becomes ``//evil.example``)."""
    if not target or not target.startswith("/"):
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def trusted_hosts(config: dict[str, Any]) -> list[str] | None:
    """TRUSTED_HOSTS from a comma-separated string, else the PUBLIC_BASE_URL's host name."""
    configured = config.get("TRUSTED_HOSTS")
    if isinstance(configured, list | tuple):
        return list(configured) or None
    names = [name.strip() for name in str(configured or "").split(",") if name.strip()]
    if not names and config.get("PUBLIC_BASE_URL"):
        host = urlsplit(config["PUBLIC_BASE_URL"]).hostname
        names = [host] if host else []
    return names or None


#: Paths that load balancers and Prometheus request by the host's address, not its public
#: name: they build no link, so the Host check does not apply to them (/metrics still
#: needs METRICS_TOKEN in production).
MACHINE_PATHS = frozenset({"/healthz", "/metrics"})


class MachinePathsAnyHost:
    """WSGI middleware: a health check or metrics scrape for another host name (haproxy's
    ``option httpchk``, a scrape by IP) is answered as if it named the public host, instead
    of TRUSTED_HOSTS' 400, which would mark every app host as down."""

    def __init__(self, wsgi_app: Any, public_host: str) -> None:
        self.wsgi_app = wsgi_app
        self.public_host = public_host

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") in MACHINE_PATHS:
            environ = {**environ, "HTTP_HOST": self.public_host}
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    if app.config["TRUSTED_HOSTS"]:
        public = urlsplit(app.config.get("PUBLIC_BASE_URL") or "").hostname
        app.wsgi_app = MachinePathsAnyHost(  # type: ignore[method-assign]
            app.wsgi_app, public or app.config["TRUSTED_HOSTS"][0].lstrip(".")
        )
    app.jinja_env.globals["public_url"] = public_url
