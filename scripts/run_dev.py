"""`make run`: migrate, load demo data, start localstripe, serve on 127.0.0.1:PORT.

Data lives in instance/ and survives restarts; running again keeps it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
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
    args = parser.parse_args()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "CHARITY_ENV": os.environ.get("CHARITY_ENV", "development"),
        "LOCALSTRIPE_PORT": str(args.localstripe_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
    }
    flask("db", "upgrade", env=env)
    flask("demo", "load", env=env)
    print(f"\n  charity is running at http://127.0.0.1:{args.port}/\n", flush=True)
    server = subprocess.Popen(
        [str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(args.port), "--no-reload"],
        cwd=ROOT,
        env=env,
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return 0


if __name__ == "__main__":
    sys.exit(main())
