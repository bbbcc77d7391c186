"""Benchmark: the regulator's dashboard over 10,000 organizations and 200,000 obligations.

    .venv/bin/python -m bench.dashboard                       # SQLite (temporary file)
    .venv/bin/python -m bench.dashboard postgresql+psycopg://postgres@127.0.0.1:5432/charity_bench

Builds the data with bulk inserts (the PostgreSQL database is dropped and re-created),
then logs in as a regulator the way the app requires (confirmed address, login form, a
server-side session, the TOTP step of an enrolled second factor) and times GET /regulator/
(median of 7 after one warm-up) and prints the
number of SQL statements per request. Writes the ``<!-- bench:dashboard-<database> -->``
section of docs/benchmarks.md (``make bench`` runs it on PostgreSQL). Target: < 1 s.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("CHARITY_ENV", "testing")

import pyotp
from flask_migrate import upgrade
from sqlalchemy import event, insert

from bench import http_pages, run
from bench.database import recreate_database
from charity import create_app
from charity.compliance.readmodels import dashboard as d
from charity.extensions import db
from charity.models import (
    Campaign,
    CampaignSuspension,
    CnchinaEntry,
    Complaint,
    Donation,
    Organization,
    User,
)
from charity.models.disclosure import Disclosure, DisclosureVersion, Obligation
from charity.services.accounts import hash_password
from config import TestingConfig

ORGS, PER_ORG, CAMPAIGNS = 10_000, 20, 2_000
PROVINCES = ["广东省", "浙江省", "江苏省", "四川省", "北京市", "上海市", "湖北省", "云南省"]
TYPES = [
    "basic_info",
    "annual_work_report",
    "annual_financial_report",
    "campaign_progress",
    "campaign_result",
    "leftover_property",
    "major_transactions",
]
TODAY = date(2026, 3, 1)
REGULATOR_EMAIL = "regulator@bench.example.org"
REGULATOR_PASSWORD = "bench-regulator-passphrase"  # noqa: S105 - a throwaway bench database
REGULATOR_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - ditto


def populate() -> None:
    rng = random.Random(7)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.execute(
        insert(Organization),
        [
            {
                "id": i,
                "name": f"基准慈善组织{i}",
                "uscc": f"53{i:016d}",
                "org_type": rng.choice(["foundation", "social_group", "social_service"]),
                "registration_authority": "民政厅",
                "province": rng.choice(PROVINCES),
                "contact_name": "张",
                "contact_phone": "1",
                "contact_email": f"o{i}@example.org",
                "status": "verified",
                "created_at": now,
            }
            for i in range(1, ORGS + 1)
        ],
    )
    rows = []
    for org_id in range(1, ORGS + 1):
        for k in range(PER_ORG):
            due = TODAY + timedelta(days=rng.randint(-400, 120))
            done = rng.random()
            fulfilled = None if done < 0.2 else due + timedelta(days=rng.randint(-20, 10))
            rows.append(
                {
                    "key": f"r{k}:{org_id}:org:{k}",
                    "organization_id": org_id,
                    "rule_code": "bench",
                    "disclosure_type": TYPES[k % len(TYPES)],
                    "subject_key": "org",
                    "period_key": str(k),
                    "triggered_on": due,
                    "due_date": due,
                    "fulfilled_on": fulfilled,
                }
            )
    for start in range(0, len(rows), 20_000):
        db.session.execute(insert(Obligation), rows[start : start + 20_000])
    db.session.execute(
        insert(Campaign),
        [
            {
                "id": c,
                "organization_id": c,
                "title": f"活动{c}",
                "purpose_md": "x",
                "start_date": date(2025, 1, 1),
                "end_date": date(2025, 6, 30),
                "region": "x",
                "person_in_charge": "x",
                "acceptance_methods": "x",
                "receiving_account": "x",
                "beneficiaries": "x",
                "use_of_funds": "x",
                "fundraising_cost": "x",
                "leftover_plan": "x",
                "expected_amount_fen": 100,
                "filing_number": f"F{c}",
                "filing_date": date(2024, 12, 1),
                "status": "closed",
                "created_at": now,
            }
            for c in range(1, CAMPAIGNS + 1)
        ],
    )
    db.session.execute(
        insert(Donation),
        [
            {
                "organization_id": c,
                "campaign_id": c,
                "amount_fen": rng.randint(100, 10_000_00),
                "status": "succeeded",
                "channel": "online_card",
                "succeeded_at": now,
                "created_at": now,
            }
            for c in range(1, CAMPAIGNS + 1)
            for _ in range(10)
        ],
    )
    db.session.execute(
        insert(Disclosure),
        [
            {
                "id": c,
                "organization_id": c,
                "disclosure_type": "campaign_result",
                "subject_key": f"campaign:{c}",
                "period_key": "result",
                "campaign_id": c,
                "latest_version": 1,
                "first_published_at": now,
                "created_at": now,
            }
            for c in range(1, CAMPAIGNS + 1)
        ],
    )
    db.session.execute(
        insert(DisclosureVersion),
        [
            {
                "disclosure_id": c,
                "version": 1,
                "title": "结果",
                "body_md": "",
                "fields_json": "{}",
                "correction_note": "",
                "content_hash": "0" * 64,
                "reported_raised_fen": rng.randint(100, 10_000_00) if c % 10 == 0 else None,
                "ratio_ok": None,
                "published_at": now,
            }
            for c in range(1, CAMPAIGNS + 1)
        ],
    )
    db.session.add(
        User(
            id=ORGS * 10,
            email=REGULATOR_EMAIL,
            name="r",
            password_hash=hash_password(REGULATOR_PASSWORD),
            platform_role="regulator",
            # Logging in needs a confirmed address (issue 15 finding 5) and, for a regulator,
            # a second factor: a fixed TOTP secret, so the bench passes whether two-factor
            # is merely enforced at login (enrolled accounts) or required of regulators.
            email_verified_at=now,
            totp_secret=REGULATOR_TOTP_SECRET,
            totp_enabled_at=now,
        )
    )
    db.session.flush()  # the regulator, who suspended the bench's campaigns
    _enforcement(rng, now)
    db.session.commit()


def _enforcement(rng: random.Random, now: datetime) -> None:
    """Issue 16 points 15-16: 20,000 complaints (some overdue), 200 suspended campaigns and
    慈善中国 entries for half the disclosures, so the dashboard's three tables are timed."""
    db.session.execute(
        insert(Complaint),
        [
            {
                "reference": f"JB20250101-{n:08d}",
                "check_code_hash": "0" * 64,
                "organization_id": rng.randint(1, ORGS),
                "category": "other",
                "body": "x",
                "is_anonymous": True,
                "status": rng.choice(["received", "in_review", "replied", "closed"]),
                "received_at": now,
                "received_on": TODAY - timedelta(days=(ago := rng.randint(0, 60))),
                "reply_due_on": TODAY - timedelta(days=ago - 7),  # some still due, most overdue
                "created_at": now,
            }
            for n in range(20_000)
        ],
    )
    db.session.flush()
    db.session.execute(
        insert(CampaignSuspension),
        [
            {
                "campaign_id": c,
                "reason": "x",
                "suspended_at": now,
                "suspended_by_id": ORGS * 10,
                "created_at": now,
            }
            for c in range(1, 201)
        ],
    )
    db.session.execute(
        insert(CnchinaEntry),
        [
            {
                "disclosure_id": c,
                "organization_id": c,
                "entry_number": f"N{c}",
                "url": "",
                "created_at": now,
            }
            for c in range(1, CAMPAIGNS + 1, 2)
        ],
    )


def main(url: str | None) -> None:
    tmp = tempfile.mkdtemp()
    url = url or f"sqlite:///{tmp}/bench.sqlite3"
    reuse = os.environ.get("BENCH_REUSE") == "1"  # skip populating (same URL, run before)
    if url.startswith("postgresql") and not reuse:
        recreate_database(url)
    app = create_app(TestingConfig(url, UPLOAD_DIR=tmp))
    with app.app_context():
        started = time.perf_counter()
        if not reuse:
            upgrade()
            populate()
            # As autovacuum (PostgreSQL) or a maintenance job (SQLite) would do after a load.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
        print(f"populated in {time.perf_counter() - started:.1f}s on {db.engine.dialect.name}")
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        import time_machine  # a test dependency, only for this bench

        with time_machine.travel(datetime(2026, 3, 1, 4, tzinfo=UTC)), app.test_client() as c:
            log_in(c)
            c.get("/regulator/")  # warm-up
            timings = []
            for _ in range(7):
                statements.clear()
                t0 = time.perf_counter()
                response = c.get("/regulator/")
                timings.append(time.perf_counter() - t0)
                assert response.status_code == 200
        median_ms, max_ms = statistics.median(timings) * 1000, max(timings) * 1000
        per_request = len(statements)  # of the last request; profile() runs more
        print(
            f"GET /regulator/: median {median_ms:.0f} ms, max {max_ms:.0f} ms, "
            f"{per_request} SQL statements; {ORGS} organizations, "
            f"{ORGS * PER_ORG} obligations"
        )
        parts = profile()
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    write_results(dialect, median_ms, max_ms, per_request, parts)


def log_in(c) -> None:  # type: ignore[no-untyped-def]
    """The way a regulator logs in: the login form (a server-side session is started),
    then the authenticator code of the two-factor step; the dashboard must then answer."""
    response = c.post(
        "/account/login", data={"email": REGULATOR_EMAIL, "password": REGULATOR_PASSWORD}
    )
    assert response.status_code == 302, f"login failed: {response.status_code}"
    code = pyotp.TOTP(REGULATOR_TOTP_SECRET).now()
    response = c.post("/account/2fa/", data={"code": code})
    assert response.status_code == 302, f"two-factor step failed: {response.status_code}"
    response = c.get("/regulator/", follow_redirects=False)
    assert response.status_code == 200, f"/regulator/ answered {response.status_code}"


def write_results(
    dialect: str, median_ms: float, max_ms: float, statements: int, parts: dict[str, float]
) -> None:
    load = os.getloadavg()
    verdict = "met" if median_ms < 1000 else "MISSED"
    section = "\n".join(
        [
            f"### `GET /regulator/` on {dialect}",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {run.git_revision()}; "
            f"{os.cpu_count()} CPU cores, load average (1 min) {load[0]:.1f} at the end; "
            f"{ORGS:,} organizations, {ORGS * PER_ORG:,} obligations. "
            "Logged in through the login form and the two-factor step (a server-side session). "
            "Re-measure: `python -m bench.dashboard <database URL>` (part of `make bench`).",
            "",
            "| median | max | SQL statements per request | "
            + " | ".join(f"{name} ms" for name in parts)
            + " |",
            "|---:|---:|---:|" + "---:|" * len(parts),
            f"| {median_ms:.0f} ms | {max_ms:.0f} ms | {statements} | "
            + " | ".join(f"{ms:.0f}" for ms in parts.values())
            + " |",
            "",
            f"Target < 1 s: **{median_ms:.0f} ms, {verdict}**. The last columns time the "
            "page's queries one by one (the grouped compliance-rate query is most of it).",
        ]
    )
    doc = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
    http_pages.write_section(doc, f"dashboard-{dialect}", section, run.INTRO)
    print(f"wrote the dashboard-{dialect} section of {doc}")


def profile() -> dict[str, float]:
    parts: dict[str, float] = {}
    for name, call in [
        ("rates", lambda: d.compliance_rates(db.session, TODAY, None)),
        ("overdue", lambda: d.obligation_list(db.session, TODAY, None, "overdue", 100)),
        ("due_soon", lambda: d.obligation_list(db.session, TODAY, None, "due_soon", 100)),
        ("ratio_failures", lambda: d.ratio_failures(db.session, None, 100)),
        ("mismatches", lambda: d.figure_mismatches(db.session, None, 100)),
    ]:
        t0 = time.perf_counter()
        call()
        parts[name] = (time.perf_counter() - t0) * 1000
        print(f"  {name}: {parts[name]:.0f} ms")
    return parts


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
