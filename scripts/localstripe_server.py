"""Run localstripe (the fake Stripe server used in development and tests) safely.

Its stock command listens on every interface and pickles its state to a fixed file in
/tmp shared by everyone on the machine. This wrapper binds 127.0.0.1 only, on the port
given (0 picks a free one and prints it), and keeps state in memory for this run only.

    python scripts/localstripe_server.py --port 8420

The first line on stdout is ``localstripe listening on http://127.0.0.1:<port>``.
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


if __name__ == "__main__":
    sys.exit(main())
