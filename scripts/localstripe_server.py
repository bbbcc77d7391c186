"""Run localstripe (the fake Stripe server used in development and tests) safely.

Its stock command listens on every interface and pickles its state to a fixed file in
/tmp shared by everyone on the machine. This wrapper binds 127.0.0.1 only, on the port
given (0 picks a free one and prints it), and keeps state in memory for this run only.

    python scripts/localstripe_server.py --port 8420

The first line on stdout is ``localstripe listening on http://127.0.0.1:<port>``.

What reconciliation needs and localstripe lacks is added here (``statement_middleware``):
localstripe keeps every connected account's objects in one store and ignores
``Stripe-Account``, and it lists charges only after a time (``created[gt]``) and refunds
only per charge. The wrapper remembers the account each PaymentIntent was created on and
answers ``GET /v1/charges`` and ``GET /v1/refunds`` with ``created[gte]``/``created[lt]``
(a day's statement, as ``charity.payments.stripe.download_statement`` asks real Stripe)
with that account's objects in the range only.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, server

    server.app.middlewares.append(statement_middleware(web, resources))

    # State per run: never read or write /tmp/localstripe.pickle (this process only).
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)  # connections queue from now on, before aiohttp starts serving
    port = sock.getsockname()[1]
    print(f"localstripe listening on http://127.0.0.1:{port}", flush=True)

    access_log = None
    if not args.quiet:
        access_log = logging.getLogger("aiohttp.access")
        access_log.setLevel(logging.INFO)
        access_log.addHandler(logging.StreamHandler())
    web.run_app(server.app, sock=sock, access_log=access_log, print=None)
    return 0


def statement_middleware(web, resources):  # type: ignore[no-untyped-def]
    """Per-account PaymentIntents, and day listings of charges and refunds."""
    import json

    accounts: dict[str, str | None] = {}  # PaymentIntent id -> its connected account

    def account_of(obj) -> str | None:  # type: ignore[no-untyped-def]
        intent = getattr(obj, "payment_intent", None)
        if intent is None and getattr(obj, "charge", None):
            charge = resources.store.get("charge:" + obj.charge)
            intent = getattr(charge, "payment_intent", None)
        return accounts.get(intent) if intent else None

    def listing(request, kind: str):  # type: ignore[no-untyped-def]
        query = request.query
        gte, lt = int(query["created[gte]"]), int(query["created[lt]"])
        account = request.headers.get("Stripe-Account")
        data = [
            value._export()
            for key, value in list(resources.store.items())
            if key.startswith(kind + ":")
            and gte <= value.created < lt
            and account_of(value) == account
        ]
        data.sort(key=lambda item: item["created"])
        body = {"object": "list", "data": data, "has_more": False, "url": request.path}
        return web.json_response(body)

    @web.middleware
    async def middleware(request, handler):  # type: ignore[no-untyped-def]
        ranged = "created[gte]" in request.query and "created[lt]" in request.query
        if request.method == "GET" and ranged and request.path in ("/v1/charges", "/v1/refunds"):
            return listing(request, request.path.rsplit("/", 1)[1][:-1])
        response = await handler(request)
        created = request.method == "POST" and request.path == "/v1/payment_intents"
        if created and response.status == 200:
            accounts[json.loads(response.text)["id"]] = request.headers.get("Stripe-Account")
        return response

    return middleware


if __name__ == "__main__":
    sys.exit(main())
