"""Read replicas: a pool of PostgreSQL streaming replicas for public, read-only requests.

``DATABASE_REPLICA_URLS`` names the replicas. Which requests may read from one is decided
per view (:mod:`charity.web.replicas` lists the endpoints); everything else — writes,
money, and whatever a user must read back at once — uses the primary (``DATABASE_URL``).

A replica is in the pool only while it answers and its replay lag is within
``DATABASE_REPLICA_MAX_LAG_SECONDS``. The lag is measured without trusting clocks or
``pg_last_xact_replay_timestamp()`` (which grows on an idle primary): each health check
samples the primary's WAL position (``pg_current_wal_lsn()``) with this process's
monotonic clock, and a replica's lag is the age of the oldest sample it has not replayed
yet (``pg_last_wal_replay_lsn()``): zero when it has replayed everything the primary had
written at the last check, growing while replay is paused or slow. Until a replica has been
seen to replay one sample its lag is unknown and it stays out.

Checks run lazily, at most every ``DATABASE_REPLICA_CHECK_SECONDS``, by the first request
that wants a replica (others use the last result meanwhile); ``/healthz`` forces one. A
replica that fails during a request is taken out at once and the request is served again
from the primary (:func:`charity.web.replicas.wrap_view`).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession

#: session.info key holding the engine the current request reads from (None: the primary).
READ_ENGINE_KEY = "charity.read_engine"

IN_POOL, LAGGING, DOWN, UNKNOWN, NOT_REPLICA = "ok", "lagging", "down", "unknown", "not_replica"

#: Pool record info key: the replica's generation when the connection was checked out.
GENERATION_KEY = "charity.replica_generation"


class RoutingSession(FlaskSession):
    """``db.session``: the primary, unless this request was routed to a replica.

    The choice is made once, before the request touches the database
    (:func:`charity.web.replicas.choose_engine`), and is the same for the whole unit of
    work: a replica-routed request never writes (a standby refuses it)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[no-untyped-def]
        if bind is None:
            engine = self.info.get(READ_ENGINE_KEY)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def parse_lsn(text: str | None) -> int | None:
    """``'16/B374D848'`` -> an integer byte position (None stays None)."""
    if text is None:
        return None
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def replica_urls(value: str | Iterable[str] | None) -> list[str]:
    """``DATABASE_REPLICA_URLS``: comma- or whitespace-separated URLs (or a list)."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [str(url) for url in value if str(url).strip()]


def display_name(url: sa.URL) -> str:
    """host:port/database: never the password."""
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


@dataclass
class Replica:
    name: str
    engine: sa.Engine
    status: str = UNKNOWN
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    replay_paused: bool = False
    checked_at: float = 0.0
    error: str | None = None
    #: Bumped each time the replica is taken out and its engine's pool thrown away.
    generation: int = 0

    def __post_init__(self) -> None:
        sa.event.listen(self.engine, "checkout", self._stamp)
        sa.event.listen(self.engine, "checkin", self._close_if_retired)

    def _stamp(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        record.info[GENERATION_KEY] = self.generation

    def _close_if_retired(self, dbapi_connection: Any, record: Any) -> None:
        # A connection out in a request while its pool was thrown away (``mark_down``)
        # comes back to that old pool, where SQLAlchemy leaves it open for the garbage
        # collector: it would hold a server connection (and psycopg warns) until then.
        if dbapi_connection is not None and record.info.get(GENERATION_KEY) != self.generation:
            record.invalidate()

    def retire_connections(self) -> None:
        """Close the idle connections now and those still out when they come back."""
        self.generation += 1
        self.engine.dispose()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "in_pool": self.status == IN_POOL,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "lag_bytes": self.lag_bytes,
            "replay_paused": self.replay_paused,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class ReplicaPool:
    """The replicas of one app in one process, and what the last health check saw."""

    primary: sa.Engine
    replicas: list[Replica]
    max_lag: float = 3.0
    check_every: float = 1.0
    #: (monotonic time, primary WAL position) samples, oldest first.
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=4096))
    checked_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, primary: sa.Engine, config: Any) -> ReplicaPool | None:
        urls = replica_urls(config.get("DATABASE_REPLICA_URLS"))
        if not urls:
            return None
        options = dict(config.get("DATABASE_REPLICA_ENGINE_OPTIONS") or {})
        replicas = []
        for url in urls:
            engine = sa.create_engine(url, **options)
            replicas.append(Replica(display_name(engine.url), engine))
        return cls(
            primary,
            replicas,
            max_lag=float(config.get("DATABASE_REPLICA_MAX_LAG_SECONDS", 3.0)),
            check_every=float(config.get("DATABASE_REPLICA_CHECK_SECONDS", 1.0)),
        )

    # --- choosing ----------------------------------------------------------------------

    def pick(self) -> sa.Engine | None:
        """A replica in the pool (at random), or None: read from the primary."""
        self.refresh_if_due()
        healthy = [replica.engine for replica in self.replicas if replica.status == IN_POOL]
        return random.choice(healthy) if healthy else None  # noqa: S311 (load spreading)

    def mark_down(self, engine: sa.Engine, error: BaseException) -> None:
        """A request failed on this replica: out of the pool until a check says otherwise."""
        for replica in self.replicas:
            if replica.engine is engine:
                replica.status = DOWN
                replica.error = type(error).__name__
                replica.retire_connections()

    def replica_for(self, engine: sa.Engine) -> Replica | None:
        return next((r for r in self.replicas if r.engine is engine), None)

    # --- health ------------------------------------------------------------------------

    def refresh_if_due(self) -> None:
        due = self.checked_at is None or time.monotonic() - self.checked_at >= self.check_every
        if due and self._lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._lock.release()

    def refresh(self) -> None:
        """Check now (waits for a check another thread is running)."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        now = time.monotonic()
        try:
            with self.primary.connect() as connection:
                lsn = connection.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar()
                position = parse_lsn(lsn)
                connection.rollback()
        except sa.exc.DBAPIError:
            position = None  # the primary is down: replicas keep their last verdict's lag rule
        if position is not None:
            self.samples.append((now, position))
            horizon = now - max(60.0, self.max_lag * 4)
            while len(self.samples) > 2 and self.samples[1][0] < horizon:
                self.samples.popleft()
        for replica in self.replicas:
            self._check(replica)
        self.checked_at = time.monotonic()

    def _check(self, replica: Replica) -> None:
        try:
            with replica.engine.connect() as connection:
                row = connection.execute(
                    sa.text(
                        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                        "pg_is_wal_replay_paused()"
                    )
                ).one()
                connection.rollback()
        except sa.exc.DBAPIError as error:
            replica.status, replica.error = DOWN, type(error.orig or error).__name__
            replica.lag_seconds = replica.lag_bytes = None
            return
        in_recovery, replay_text, paused = row
        now = replica.checked_at = time.monotonic()
        replica.error = None
        if not in_recovery:  # promoted: no longer following this primary
            replica.status, replica.lag_seconds, replica.lag_bytes = NOT_REPLICA, None, None
            return
        replica.replay_paused = bool(paused)
        replayed = parse_lsn(replay_text)
        replica.lag_seconds = self.lag_of(replayed, now)
        replica.lag_bytes = (
            max(0, self.samples[-1][1] - replayed)
            if self.samples and replayed is not None
            else None
        )
        if replica.lag_seconds is None:
            replica.status = UNKNOWN
        elif replica.lag_seconds > self.max_lag:
            replica.status = LAGGING
        else:
            replica.status = IN_POOL

    def lag_of(self, replayed: int | None, now: float) -> float | None:
        """Seconds since the oldest primary sample the replica has not replayed; 0 when it
        has replayed them all; None when even the first sample we have is not replayed
        (we cannot tell for how long it has been behind)."""
        if replayed is None or not self.samples:
            return None
        for index, (taken, position) in enumerate(self.samples):
            if position > replayed:
                return None if index == 0 else max(0.0, now - taken)
        return 0.0

    def status(self) -> dict[str, Any]:
        in_pool = [replica.name for replica in self.replicas if replica.status == IN_POOL]
        return {
            "pool": in_pool,
            "max_lag_seconds": self.max_lag,
            "replicas": [replica.as_dict() for replica in self.replicas],
        }

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.retire_connections()


#: Where the app keeps its pool (charity.web.replicas.init_app puts it there).
POOL_EXTENSION = "charity.replicas"


def pool(app: Flask | None = None) -> ReplicaPool | None:
    """The app's read-replica pool, or None when it has no replicas."""
    return (app or current_app).extensions.get(POOL_EXTENSION)
