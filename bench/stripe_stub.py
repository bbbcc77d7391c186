"""A stand-in for Stripe's API in the benches and drills, and the shape of their intents.

The confirmation path makes no Stripe call any more (a signed ``payment_intent.succeeded``
is Stripe's word, guarantee 4), but the benches still point ``STRIPE_API_BASE`` here so
that any call that would reach Stripe (``GET /v1/payment_intents/<id>``, as the handler
once made) is answered on loopback and never leaves the machine; localstripe would need
every intent created through its API first and answers slowly under load. Intents are
stateless: the id ``pi_bench_<donation id>_<amount in fen>`` says everything, and the
answer is always "succeeded" in CNY with ``metadata.donation_id`` set, as Stripe would have it.

    python bench/stripe_stub.py --port 0      # prints "listening on http://127.0.0.1:PORT"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

_INTENT = re.compile(r"^/v1/payment_intents/(pi_bench_(\d+)_(\d+))$")


def intent_id(donation_id: int, amount_fen: int) -> str:
    return f"pi_bench_{donation_id}_{amount_fen}"


def intent_object(donation_id: int, amount_fen: int) -> dict:
    pid = intent_id(donation_id, amount_fen)
    return {
        "id": pid,
        "object": "payment_intent",
        "amount": amount_fen,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"donation_id": str(donation_id)},
        "client_secret": f"{pid}_secret_bench",
        "latest_charge": f"ch_bench_{donation_id}",
        "last_payment_error": None,
        "livemode": False,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Stripe SDK's HTTP client expects

    def do_GET(self) -> None:
        match = _INTENT.match(self.path.split("?")[0])
        if match:
            status, body = 200, intent_object(int(match[2]), int(match[3]))
        else:
            status = 404
            body = {"error": {"type": "invalid_request_error", "message": "no such object"}}
        self._answer(status, body)

    def do_POST(self) -> None:
        """``POST /v1/payment_intents`` (the donate form's first call; bench/drill.py):
        the stateless intent for the donation named in its metadata, awaiting a card."""
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        try:
            assert self.path.split("?")[0] == "/v1/payment_intents"
            donation_id = int(form["metadata[donation_id]"][0])
            amount = int(form["amount"][0])
        except (AssertionError, KeyError, ValueError):
            status = 400
            body = {"error": {"type": "invalid_request_error", "message": "unsupported"}}
        else:
            status = 200
            body = {
                **intent_object(donation_id, amount),
                "status": "requires_payment_method",
                "latest_charge": None,
            }
        self._answer(status, body)

    def _answer(self, status: int, body: dict) -> None:
        """JSON as Stripe sends it, with a request id."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_bench")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = serve(args.port)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
