"""`make run`: migrate, load demo data, start localstripe and the WeChat Pay and Alipay
simulators, serve on 127.0.0.1:PORT.

Data lives in instance/ and survives restarts; running again keeps it.

Ports: PORT (default 5000) for the app and LOCALSTRIPE_PORT (default 8420) for the fake
Stripe server, both overridable: `make run PORT=5050 LOCALSTRIPE_PORT=8421`. localstripe
runs from scripts/localstripe_server.py (127.0.0.1 only, state in memory for this run),
with the webhook http://127.0.0.1:PORT/stripe/webhook registered under the development
webhook secret (instance/stripe_webhook_secret). The WeChat Pay and Alipay simulators
(scripts/wechatpay_simulator.py, scripts/alipay_simulator.py; WECHATPAY_SIM_PORT default
8430, ALIPAY_SIM_PORT default 8440) start with fresh keys, and `flask payments
connect-simulators` gives every verified demo organization a merchant account at each.
They all stop when the app stops.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def flask(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument(
        "--localstripe-port", type=int, default=int(os.environ.get("LOCALSTRIPE_PORT", 8420))
    )
    parser.add_argument(
        "--wechatpay-port", type=int, default=int(os.environ.get("WECHATPAY_SIM_PORT", 8430))
    )
    parser.add_argument(
        "--alipay-port", type=int, default=int(os.environ.get("ALIPAY_SIM_PORT", 8440))
    )
    args = parser.parse_args()
    _stop_on_sigterm()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "CHARITY_ENV": os.environ.get("CHARITY_ENV", "development"),
        "LOCALSTRIPE_PORT": str(args.localstripe_port),
        "WECHATPAY_SIM_PORT": str(args.wechatpay_port),
        "ALIPAY_SIM_PORT": str(args.alipay_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
    }
    warn_without_cjk_font()
    children = [start_localstripe(args.localstripe_port, args.port, env)]
    try:
        children.append(start_simulator("wechatpay", args.wechatpay_port, env))
        children.append(start_simulator("alipay", args.alipay_port, env))
        return serve(args, env)
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.terminate()
            child.wait(timeout=10)


def start_simulator(name: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """scripts/<name>_simulator.py on 127.0.0.1:port (state and keys for this run)."""
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            str(ROOT / "scripts" / f"{name}_simulator.py"),
            "--port",
            str(port),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if "listening on" not in line:
        process.terminate()
        raise SystemExit(f"the {name} simulator did not start on port {port}: {line!r}")
    print(line.strip(), flush=True)
    return process


def start_localstripe(port: int, app_port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            str(ROOT / "scripts" / "localstripe_server.py"),
            "--port",
            str(port),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if "listening on" not in line:
        process.terminate()
        raise SystemExit(f"localstripe did not start on port {port}: {line!r}")
    print(line.strip(), flush=True)
    secret = webhook_secret()
    data = urllib.parse.urlencode(
        {"url": f"http://127.0.0.1:{app_port}/stripe/webhook", "secret": secret}
    ).encode()
    request = urllib.request.Request(f"{line.split()[-1]}/_config/webhooks/charity", data=data)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own 127.0.0.1 server
        pass
    return process


def warn_without_cjk_font() -> None:
    """PDF receipts need a CJK font; without one the receipt page still works."""
    sys.path.insert(0, str(ROOT))
    from charity.services.receipts import FONT_CANDIDATES

    if not any(Path(path).is_file() for path in FONT_CANDIDATES):
        print(
            "warning: no CJK font for PDF receipts; install one with\n"
            "  apt-get install fonts-wqy-microhei   (or set RECEIPT_FONT_PATH)",
            flush=True,
        )


def webhook_secret() -> str:
    """The development webhook secret, as the app will read it (env or instance/)."""
    sys.path.insert(0, str(ROOT))
    from config import DevelopmentConfig

    return DevelopmentConfig().STRIPE_WEBHOOK_SECRET


def serve(args: argparse.Namespace, env: dict[str, str]) -> int:
    flask("db", "upgrade", env=env)
    flask("demo", "load", env=env)
    flask("payments", "connect-simulators", env=env)
    print(f"\n  charity is running at http://127.0.0.1:{args.port}/\n", flush=True)
    server = subprocess.Popen(
        [str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(args.port), "--no-reload"],
        cwd=ROOT,
        env=env,
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


def _stop_on_sigterm() -> None:
    """`kill` (SIGTERM) stops the app and localstripe too, like Ctrl-C does."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
