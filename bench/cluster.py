"""Local stand-ins for the machines of a multi-host deployment, on 127.0.0.1 only.

Used by the test session (tests/scale) and the giving-day drill (bench/drill.py):

* :class:`Replica` — a PostgreSQL streaming replica of the primary, made with
  ``pg_basebackup -R`` into a temporary directory and run on a free port with Debian's
  PostgreSQL binaries (``/usr/lib/postgresql/<version>/bin``). The primary needs
  ``wal_level`` replica or logical (the default) and a ``pg_hba.conf`` line allowing
  replication from 127.0.0.1 (.ci/run adds it and reloads; no restart).
* :class:`PgBouncer` — Debian's ``pgbouncer`` in transaction pooling mode in front of the
  primary, on a free port.
* :class:`Haproxy` — Debian's ``haproxy`` balancing HTTP over several app servers.

Everything runs as the ``postgres`` system user when started as root (PostgreSQL refuses
to run as root), lives in one temporary directory, and is stopped by ``stop()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
import sqlalchemy as sa


class ClusterError(RuntimeError):
    """A local server could not be started; the message says what is missing."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise ClusterError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL binaries (the newest installed version), or PG_BIN_DIR."""
    if os.environ.get("PG_BIN_DIR"):
        return Path(os.environ["PG_BIN_DIR"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not found:
        raise ClusterError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def _as_service_user(command: Sequence[str]) -> list[str]:
    """Prefix ``runuser -u postgres --`` when running as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def _service_dir(prefix: str) -> Path:
    """A private temporary directory the service user owns."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o700)
    return path


def _run(command: Sequence[str], timeout: float = 120) -> str:
    result = subprocess.run(
        _as_service_user(command), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


class Replica:
    """A streaming replica of the PostgreSQL server at ``primary_url``."""

    def __init__(self, primary_url: str, name: str = "charity_scale_replica") -> None:
        self.primary = sa.engine.make_url(primary_url)
        self.name = name
        self.bin = postgres_bin_dir()
        self.port = free_port()
        self.dir: Path | None = None
        self.started = False

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    def url(self, database: str | None = None) -> str:
        return self.primary.set(
            host="127.0.0.1", port=self.port, database=database or self.primary.database
        ).render_as_string(hide_password=False)

    def create(self) -> Replica:
        """pg_basebackup -R from the primary (a fast checkpoint, WAL streamed alongside)."""
        self.dir = _service_dir(f"{self.name}_")
        _run(
            [
                str(self.bin / "pg_basebackup"),
                "-h",
                self.primary.host or "127.0.0.1",
                "-p",
                str(self.primary.port or 5432),
                "-U",
                self.primary.username or "postgres",
                "-D",
                str(self.data),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            timeout=600,
        )
        # Debian keeps postgresql.conf and pg_hba.conf in /etc, so the copy has neither.
        (self.data / "postgresql.conf").write_text(
            "\n".join(
                [
                    "listen_addresses = '127.0.0.1'",
                    f"port = {self.port}",
                    f"unix_socket_directories = '{self.dir}'",
                    "hot_standby = on",
                    "max_connections = 200",
                    "shared_buffers = 32MB",
                    "fsync = off",  # a throwaway copy: recreated from the primary if lost
                    "hot_standby_feedback = off",
                    "max_standby_streaming_delay = 5s",
                    "logging_collector = off",
                    "",
                ]
            )
        )
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf"):
                shutil.chown(self.data / name, "postgres", "postgres")
        return self

    def start(self) -> Replica:
        _run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-t",
                "120",
                "start",
            ],
            timeout=150,
        )
        self.started = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.dir is None or not self.started:
            return
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])
        self.started = False

    def kill(self) -> None:
        """SIGKILL the postmaster (a crashed machine), as the drill does."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        self.started = False

    def execute(self, sql: str, database: str = "postgres") -> object:
        """One statement on the replica; its first column of the first row."""
        engine = sa.create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()

    def pause_replay(self) -> None:
        self.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.execute("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 60.0) -> None:
        """Until the replica has replayed the primary's WAL position as of now."""
        primary = sa.create_engine(
            self.primary.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with primary.connect() as connection:
                target = connection.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()
        finally:
            primary.dispose()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if done:
                return
            time.sleep(0.02)
        raise ClusterError(f"the replica did not replay up to {target} in {timeout:.0f} s")

    def remove(self) -> None:
        with contextlib.suppress(ClusterError):
            self.stop("immediate")
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if not found:
        raise ClusterError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    return found


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of ``primary_url``'s server."""

    def __init__(
        self, primary_url: str, *, pool_size: int = 20, name: str = "charity_scale_pgbouncer"
    ) -> None:
        self.primary = sa.engine.make_url(primary_url)
        self.pool_size = pool_size
        self.name = name
        self.port = free_port()
        self.dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str | None = None) -> str:
        return self.primary.set(
            host="127.0.0.1", port=self.port, database=database or self.primary.database
        ).render_as_string(hide_password=False)

    def start(self) -> PgBouncer:
        binary = pgbouncer_binary()
        self.dir = _service_dir(f"{self.name}_")
        user = self.primary.username or "postgres"
        host, port = self.primary.host or "127.0.0.1", self.primary.port or 5432
        (self.dir / "userlist.txt").write_text(f'"{user}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={host} port={port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    f"unix_socket_dir = {self.dir}",
                    "auth_type = trust",
                    f"auth_file = {self.dir / 'userlist.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 1000",
                    # What clients send at connect time that pgbouncer may drop.
                    "ignore_startup_parameters = extra_float_digits,options",
                    "server_reset_query =",
                    "server_check_delay = 5",
                    f"admin_users = {user}",
                    f"logfile = {self.dir / 'pgbouncer.log'}",
                    f"pidfile = {self.dir / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            for name in ("userlist.txt", "pgbouncer.ini"):
                shutil.chown(self.dir / name, "postgres", "postgres")
        self.process = subprocess.Popen(
            _as_service_user([binary, str(self.dir / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        pid_file = self.dir / "pgbouncer.pid" if self.dir is not None else None
        if pid_file is not None and pid_file.exists():  # runuser does not pass signals on
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def show(self, what: str) -> list[dict[str, object]]:
        """``SHOW <what>`` on pgbouncer's admin console (POOLS, STATS, ...)."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user=self.primary.username or "postgres",
            autocommit=True,
            prepare_threshold=None,
        ) as connection:
            cursor = connection.execute(f"SHOW {what}")
            columns = [column.name for column in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
