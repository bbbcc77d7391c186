"""HTTP benchmark pieces: wrk runs, gunicorn worker memory, the markdown section.

(Not named http.py: a script run from bench/ would import it instead of the standard
library's http.)

Used by bench/run.py; nothing here imports the app.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

#: wrk's Lua ``done`` hook prints one JSON line we parse instead of wrk's prose.
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format(
    '\\nWRK_JSON {"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class WrkResult:
    name: str
    path: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx_3xx: int
    memory: MemorySample | None = None
    #: (lowest, highest) requests/s over the rounds
    spread: tuple[float, float] | None = None
    #: Mean time inside the app per request (from /metrics); the rest of wrk's latency is
    #: queueing for a gunicorn thread and the CPU shared with wrk.
    app_ms: float | None = None


@dataclass
class MemorySample:
    """Peak memory of each gunicorn worker while a wrk run was going (kB)."""

    rss_kb: dict[int, int] = field(default_factory=dict)
    pss_kb: dict[int, int] = field(default_factory=dict)

    def add(self, pid: int, rss: int, pss: int) -> None:
        self.rss_kb[pid] = max(self.rss_kb.get(pid, 0), rss)
        self.pss_kb[pid] = max(self.pss_kb.get(pid, 0), pss)

    @property
    def workers(self) -> int:
        return len(self.rss_kb)

    def mean(self, values: dict[int, int]) -> float:
        return sum(values.values()) / len(values) / 1024 if values else 0.0

    def peak(self, values: dict[int, int]) -> float:
        return max(values.values()) / 1024 if values else 0.0


def ensure_wrk() -> str:
    """The wrk binary; installs Debian's package when it is missing (needs root/apt)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's wrk package with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update", "-q"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is required: apt-get install wrk")
    return found


def run_wrk(
    wrk: str,
    base_url: str,
    name: str,
    path: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    master_pid: int | None = None,
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    sampler = MemorySampler(master_pid) if master_pid else None
    before = scrape_app_seconds(base_url) if master_pid else {}
    if sampler:
        sampler.start()
    try:
        completed = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base_url + path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if sampler:
            sampler.stop()
        Path(script.name).unlink(missing_ok=True)
    app_ms = app_mean_ms(before, scrape_app_seconds(base_url)) if master_pid else None
    line = next(x for x in completed.stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    elapsed = data["duration_us"] / 1e6
    return WrkResult(
        name=name,
        path=path,
        requests=data["requests"],
        seconds=elapsed,
        rps=data["requests"] / elapsed,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        non_2xx_3xx=data["non_2xx_3xx"],
        memory=sampler.sample if sampler else None,
        app_ms=app_ms,
    )


def scrape_app_seconds(base_url: str) -> dict[str, tuple[float, float]]:
    """{endpoint: (seconds, count)} summed over methods, from the app's /metrics."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=60) as response:  # noqa: S310
        text = response.read().decode()
    totals: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "charity_http_request_duration_seconds":
            continue
        for sample in family.samples:
            slot = totals.setdefault(sample.labels["endpoint"], [0.0, 0.0])
            if sample.name.endswith("_sum"):
                slot[0] += sample.value
            elif sample.name.endswith("_count"):
                slot[1] += sample.value
    return {endpoint: (v[0], v[1]) for endpoint, v in totals.items()}


def app_mean_ms(before: dict, after: dict) -> float | None:
    """Mean app time of the endpoint that served the most requests between two scrapes."""
    deltas = [
        (after[e][1] - before.get(e, (0.0, 0.0))[1], after[e][0] - before.get(e, (0.0, 0.0))[0])
        for e in after
    ]
    count, seconds = max(deltas, default=(0.0, 0.0))
    return seconds / count * 1000 if count else None


def worker_pids(master_pid: int) -> list[int]:
    """gunicorn's workers are the master's children."""
    pids = []
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        pids += [int(pid) for pid in task.read_text().split()]
    return pids


def read_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB. PSS splits pages shared copy-on-write with the master fairly."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    rollup = Path(f"/proc/{pid}/smaps_rollup")
    if rollup.exists():
        for line in rollup.read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


class MemorySampler(threading.Thread):
    def __init__(self, master_pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.every = every
        self.sample = MemorySample()
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            for pid in worker_pids(self.master_pid):
                try:
                    self.sample.add(pid, *read_memory(pid))
                except (FileNotFoundError, ProcessLookupError):
                    continue  # a worker recycled by max_requests
            self._stopped.wait(self.every)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def median_round(results: list[WrkResult]) -> WrkResult:
    """The round with the median rate (with its own memory samples)."""
    ordered = sorted(results, key=lambda r: r.rps)
    chosen = ordered[len(ordered) // 2]
    chosen.spread = (ordered[0].rps, ordered[-1].rps)
    return chosen


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"


def _ms(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else ""


def _spread(result: WrkResult) -> str:
    if not result.spread:
        return ""
    return f"{result.spread[0]:,.0f}–{result.spread[1]:,.0f}"


def render_section(
    results: list[WrkResult], ceiling: WrkResult, notes: list[str], setup: list[str]
) -> str:
    lines = [
        "## HTTP: pages against the static-file ceiling",
        "",
        *setup,
        "",
        "| target | path | requests/s | rounds' range | vs ceiling | p50 ms | p90 ms | p99 ms "
        "| max ms | in app ms (mean) | socket errors | non-2xx/3xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | `{r.path}` | {r.rps:,.0f} | {_spread(r)} | {ratio(r.rps, ceiling.rps)} "
            f"| {r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.0f} "
            f"| {_ms(r.app_ms)} | {r.errors} | {r.non_2xx_3xx} |"
        )
    lines += [
        "",
        "Memory per gunicorn worker under that load (peak per worker, sampled every 0.5 s "
        "from /proc during the median round; PSS counts pages shared copy-on-write with the "
        "master by share; pids include workers recycled by max_requests):",
        "",
        "| during | worker pids seen | RSS mean MiB | RSS max MiB | PSS mean MiB | PSS max MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m = r.memory
        if m and m.workers:
            lines.append(
                f"| {r.name} | {m.workers} | {m.mean(m.rss_kb):.1f} | {m.peak(m.rss_kb):.1f} "
                f"| {m.mean(m.pss_kb):.1f} | {m.peak(m.pss_kb):.1f} |"
            )
    lines += [
        "",
        '"in app ms" is the mean time between the app\'s first and last request hook '
        "(charity_http_request_duration_seconds from /metrics); the rest of wrk's latency is "
        "waiting for a free gunicorn thread and for CPU shared with wrk and the database.",
    ]
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines)


def render_profile(profile: dict[str, dict[str, float]], results: list[WrkResult]) -> str:
    """Where each page's time goes with one client and no load (bench/run.py PROFILE_SCRIPT)."""
    lines = [
        "Where the time goes, one request at a time in-process (no load; mean of 30, after 5 "
        "warm-up requests; SQL = time inside cursor.execute, i.e. round trips to PostgreSQL, "
        "including lazy loads fired from templates; template = rendering without that SQL):",
        "",
        "| target | ms per request | SQL queries | SQL ms | template ms | other ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [(r.name, r.path) for r in results]
    rows += [(f"{r.name}, cache miss", r.path + "#uncached") for r in results]
    for name, path in rows:
        p = profile.get(path)
        if not p:
            continue
        other = p["ms"] - p["sql_ms"] - p["template_ms"]
        lines.append(
            f"| {name} | {p['ms']:.2f} | {p['queries']:.0f} | {p['sql_ms']:.2f} "
            f"| {p['template_ms']:.2f} | {other:.2f} |"
        )
    return "\n".join(lines)


def write_section(doc: Path, marker: str, body: str, intro: str) -> None:
    """Replace the text between <!-- bench:MARKER --> and <!-- /bench:MARKER -->; rest kept."""
    start, end = f"<!-- bench:{marker} -->", f"<!-- /bench:{marker} -->"
    text = doc.read_text() if doc.exists() else intro
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        before = text[: text.index(start)]
        after = text[text.index(end) + len(end) :]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer at {url} within {timeout:.0f}s")
