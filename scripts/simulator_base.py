"""What the WeChat Pay and Alipay simulators share: the server, the notification outbox,
the control API and the cashier page's frame.

Each simulator (scripts/wechatpay_simulator.py, scripts/alipay_simulator.py) is a small
Flask app served by werkzeug's threaded server on 127.0.0.1 only, on the port given (0
picks a free one), with all state in memory for this run and keys generated at start.
The first line on stdout is ``<name> simulator listening on http://127.0.0.1:<port>``.

Notifications (the provider calling the merchant back) go through an outbox. In the
default ``auto`` mode each is delivered at once from a background thread and redelivered a
few times while the merchant does not acknowledge it (the real providers go on for a day;
the simulator gives up after ``RETRY_DELAYS``). In ``hold`` mode they wait until a test
delivers them, late, twice or out of order, through the control API:

    POST /_sim/notifications/mode     {"mode": "hold" | "auto"}
    GET  /_sim/notifications          every notification: id, kind, order, url, headers,
                                      body (exactly as signed), deliveries so far
    POST /_sim/notifications/deliver  {"ids": [...] (default: all undelivered),
                                       "times": 1, "order": "as-is" | "reverse" | "shuffle"}
                                      delivers now, answers each merchant's reply
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from markupsafe import escape

#: Seconds between redeliveries of an unacknowledged notification in ``auto`` mode.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


@dataclass
class Notification:
    id: str
    kind: str
    order: str
    url: str
    headers: dict[str, str]
    body: bytes
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "order": self.order,
            "url": self.url,
            "headers": self.headers,
            "body": self.body.decode("utf-8"),
            "deliveries": list(self.deliveries),
        }


class Outbox:
    """Notifications waiting for, or already given, delivery."""

    def __init__(self, acknowledged: Any) -> None:
        #: acknowledged(status, body) -> bool: the provider's rule for "the merchant got it".
        self.acknowledged = acknowledged
        self.mode = "auto"
        self.items: list[Notification] = []
        self.lock = threading.Lock()

    def add(self, kind: str, order: str, url: str, headers: dict[str, str], body: bytes) -> None:
        item = Notification(uuid.uuid4().hex, kind, order, url, headers, body)
        with self.lock:
            self.items.append(item)
            hold = self.mode == "hold"
        if not hold:
            threading.Thread(target=self._deliver_with_retries, args=(item,), daemon=True).start()

    def deliver(self, item: Notification) -> dict[str, Any]:
        request_ = urllib.request.Request(  # noqa: S310 - the merchant's own notify_url
            item.url, data=item.body, headers=item.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request_, timeout=30) as answer:  # noqa: S310
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        except OSError as error:
            status, text = 0, str(error)
        result = {"at": time.time(), "status": status, "body": text[:500]}
        result["acknowledged"] = bool(self.acknowledged(status, text))
        with self.lock:
            item.deliveries.append(result)
        return result

    def _deliver_with_retries(self, item: Notification) -> None:
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            if self.deliver(item)["acknowledged"]:
                return

    def select(self, ids: list[str] | None) -> list[Notification]:
        with self.lock:
            if ids is None:
                return [item for item in self.items if not item.deliveries]
            by_id = {item.id: item for item in self.items}
        return [by_id[i] for i in ids if i in by_id]


def control_routes(app: Flask, outbox: Outbox) -> None:
    """The control API (see the module docstring)."""

    @app.post("/_sim/notifications/mode")
    def notifications_mode():  # type: ignore[no-untyped-def]
        mode = (request.get_json(silent=True) or {}).get("mode")
        if mode not in ("auto", "hold"):
            return jsonify(error="mode is auto or hold"), 400
        outbox.mode = mode
        return jsonify(mode=mode)

    @app.get("/_sim/notifications")
    def notifications_list():  # type: ignore[no-untyped-def]
        with outbox.lock:
            return jsonify(notifications=[item.public() for item in outbox.items])

    @app.post("/_sim/notifications/deliver")
    def notifications_deliver():  # type: ignore[no-untyped-def]
        options = request.get_json(silent=True) or {}
        items = outbox.select(options.get("ids"))
        items = items * max(1, min(int(options.get("times", 1)), 10))
        if options.get("order") == "reverse":
            items.reverse()
        elif options.get("order") == "shuffle":
            random.Random(options.get("seed")).shuffle(items)  # noqa: S311 - test order
        return jsonify(results=[{"id": item.id, **outbox.deliver(item)} for item in items])


def page(title: str, body: str) -> Response:
    """A plain cashier page (the simulator's, not the platform's)."""
    html = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 28rem; margin: 2rem auto; padding: 0 1rem; }}
.amount {{ font-size: 2rem; margin: 1rem 0; }}
button {{ font-size: 1.1rem; padding: .7rem 1.2rem; margin: .3rem 0; width: 100%; }}
.note {{ color: #555; font-size: .9rem; }}
</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"""
    return Response(html, mimetype="text/html")


def json_body() -> dict[str, Any]:
    try:
        value = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def serve(app: Flask, name: str, port: int, quiet: bool = False) -> None:
    """Serve on 127.0.0.1:port (0: a free port), announcing the address on stdout."""
    import logging

    from werkzeug.serving import make_server

    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = make_server("127.0.0.1", port, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    print(f"{name} simulator listening on {base}", flush=True)
    server.serve_forever()
