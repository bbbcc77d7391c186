"""Receipt PDFs rendered per second, one process, with the CJK font parsed once per process
(``receipts.add_cjk_font``) against parsed for every receipt (fpdf2's ``add_font``, what
every receipt did before).

    python -m bench.receipts [-n 12] [--db-url ...] [--reuse] [--no-write]

The database (``BENCH_DATABASE_URL`` or ``--db-url``) is recreated, migrated and seeded
(``flask demo load``) unless ``--reuse``; the receipts are the demo's succeeded gifts,
rendered by ``receipts.render_receipt_pdf`` in a request context, alternating the two
ways so background load hits both alike. CPU = this process (``time.process_time``).
Writes the ``<!-- bench:receipts -->`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import http_pages as bench_http
from bench import run as bench_run

ROOT = Path(__file__).resolve().parent.parent

INNER = r"""
import json, sys, time
import sqlalchemy as sa
from charity import create_app
from charity.extensions import db
from charity.models import Donation
from charity.services import receipts
from config import load_config
n = int(sys.argv[1])
app = create_app(load_config())
with app.test_request_context("/"):
    gifts = db.session.scalars(
        sa.select(Donation).where(Donation.status == "succeeded",
                                  Donation.receipt_number.is_not(None)).limit(n)
    ).all()
    receipts.render_receipt_pdf(gifts[0])  # imports, the font file in the page cache
    times = {"parsed every time": [], "parsed once per process": []}
    sizes = []
    for gift in gifts:
        for name in times:
            if name == "parsed every time":
                receipts.clear_font_cache()
            else:
                receipts.render_receipt_pdf(gifts[0])  # the process's first parse, untimed
            started = time.process_time()
            sizes.append(len(receipts.render_receipt_pdf(gift)))
            times[name].append(time.process_time() - started)
print(json.dumps({"times": times, "count": len(gifts), "bytes": sum(sizes) // len(sizes)}))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_db = os.environ.get("BENCH_DATABASE_URL", bench_run.DEFAULT_DB)
    parser.add_argument("--db-url", default=default_db)
    parser.add_argument("--reuse", action="store_true", help="skip recreating the database")
    parser.add_argument("-n", type=int, default=12, help="receipts rendered each way")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="charity-receipts-bench-"))
    args.port, args.workers, args.threads, args.worker_class = 0, None, None, None
    env = bench_run.bench_env(args, workdir)
    if not args.reuse:
        print(f"database {args.db_url}: recreating, migrating, seeding", flush=True)
        bench_run.recreate_database(args.db_url)
        bench_run.prepare(env)
    completed = subprocess.run(
        [sys.executable, "-c", INNER, str(args.n)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if completed.returncode != 0:
        print(completed.stderr[-3000:])
        return 1
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    rows = []
    for name, times in result["times"].items():
        times = sorted(times)
        median = times[len(times) // 2]
        rows.append(
            f"| {name} | {median * 1000:.0f} | {times[0] * 1000:.0f}–{times[-1] * 1000:.0f} "
            f"| {1 / median:.1f} |"
        )
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "## Receipt PDFs per second (one process)",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {bench_run.git_revision()}; "
            f"{os.cpu_count()} CPU cores ({platform.machine()}), Python "
            f"{platform.python_version()}; load average (1 min) {load:.1f}. "
            f"{result['count']} demo receipts rendered each way by "
            "`receipts.render_receipt_pdf`, alternating; CPU of this process per receipt "
            f"(median); ~{result['bytes'] // 1024} KB each (the font embedded as a subset).",
            "",
            "| CJK font | CPU ms per receipt | range | receipts/s per core |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            "What is left is fontTools subsetting the font when the PDF is written (its cmap, "
            "glyph names and outlines decompiled for every document). "
            "Re-measure: `python -m bench.receipts`.",
        ]
    )
    print("\n" + section)
    if not args.no_write:
        bench_http.write_section(args.output, "receipts", section, bench_run.INTRO)
        print(f"\nwrote the receipts section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
