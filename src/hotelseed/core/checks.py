"""Verification checks: one per invariant, same shape everywhere (as SDMetrics gives one metric shape).

A check has a name, the invariant it proves, the number of rows it looked at, and the ids that violate it.
SQL checks are a pair of queries (rows checked; violating ids). Python checks get the connection and
return the same pair; they are for invariants that are awkward in portable SQL (JSON arrays, policies). A check
may have both: its SQL where `violations_sql(dialect)` gives some (say, where the database knows time zones),
its Python elsewhere (where it returns None).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Check:
    name: str
    invariant: str  # where the rule is stated, e.g. "platform.md §4.2 inv. 5"
    module: str
    description: str
    checked_sql: str | Callable[[str], str] | None = None  # SELECT count(*) ...; callable(dialect) → SQL
    violations_sql: str | Callable[[str], str] | None = None  # SELECT <id> ... (one row per violation)
    fn: Callable[[Connection, dict], tuple[int, list]] | None = None


@dataclass
class Outcome:
    check: Check
    rows_checked: int
    violations: int
    examples: list
    seconds: float

    @property
    def ok(self) -> bool:
        return self.violations == 0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def rows_checked(self) -> int:
        return sum(o.rows_checked for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def failure_line(self) -> str:
        bad = self.failed
        return (f"verification failed: {len(bad)} of {len(self.outcomes)} checks found violations "
                f"({', '.join(f'{o.check.name}: {o.violations}' for o in bad[:5])}{', …' if len(bad) > 5 else ''})")

    def as_json(self) -> list[dict]:
        return [{"check": o.check.name, "module": o.check.module, "invariant": o.check.invariant,
                 "rows_checked": o.rows_checked, "violations": o.violations,
                 "examples": [str(e) for e in o.examples]} for o in self.outcomes]


def run(conn: Connection, checks: list[Check], params: dict, examples: int = 5) -> Report:
    report = Report()
    if conn.dialect.name == "postgresql":
        # Checks are one-off analytical queries: JIT compilation (about a second for a large plan) costs more
        # than it saves. SET LOCAL ends with the transaction.
        conn.exec_driver_sql("SET LOCAL jit = off")
        # They scan whole tables on a server with nothing else to do (the load is over): cheaper parallel
        # workers than the defaults (1000, 0.1) assume let the planner use them for more of the scans and joins.
        # All checks on a medium seed, same database, three runs each: 11.0-11.5 s → 9.6-10.2 s.
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 100")
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0.01")
    d = conn.dialect.name
    for chk in checks:
        t0 = time.perf_counter()
        violations_sql = chk.violations_sql(d) if callable(chk.violations_sql) else chk.violations_sql
        if violations_sql is None:
            checked, bad = chk.fn(conn, params)
        else:
            checked_sql = chk.checked_sql(d) if callable(chk.checked_sql) else chk.checked_sql
            sql_params = {k: v for k, v in params.items() if not k.startswith("_")}
            checked = int(conn.execute(sa.text(checked_sql), sql_params).scalar() or 0)
            bad = [r[0] for r in conn.execute(sa.text(violations_sql), sql_params).all()]
        report.outcomes.append(Outcome(chk, checked, len(bad), list(bad[:examples]), time.perf_counter() - t0))
    return report


def epoch(dialect: str, col: str) -> str:
    """SQL for a timestamp column as whole epoch seconds (UTC), the same on both databases."""
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {col}) AS BIGINT)"
    return f"CAST(ROUND((julianday({col}) - 2440587.5) * 86400) AS INTEGER)"


def epoch_day(dialect: str, col: str) -> str:
    """SQL for a date column as days since 1970-01-01."""
    if dialect == "postgresql":
        return f"({col} - DATE '1970-01-01')"
    return f"CAST(ROUND(julianday({col}) - 2440587.5) AS INTEGER)"


def unindexed(dialect: str, col: str) -> str:
    """A column SQLite's planner must not reach through an index (SQLite's documented unary `+`): for a check
    that keeps a large share of a table, reading the table in order beats one random read per row the index
    finds. PostgreSQL chooses by its statistics; the column is left as it is."""
    return f"+{col}" if dialect == "sqlite" else col


def cents(col: str) -> str:
    """Money as integer minor units (SQLite keeps numeric as REAL; compare whole cents, never floats)."""
    return f"CAST(ROUND({col} * 100) AS BIGINT)"


def _driver_sql(conn: Connection, sql: str, params: dict | None) -> tuple[str, dict | tuple]:
    """SQL with named :params compiled by SQLAlchemy into the driver's own parameter style, with its values."""
    compiled = sa.text(sql).compile(dialect=conn.dialect)
    values = compiled.construct_params(params or {})
    if compiled.positional:
        values = tuple(values[k] for k in compiled.positiontup)
    return str(compiled), values


def fetch(conn: Connection, sql: str, params: dict | None = None) -> list[tuple]:
    """A query's rows as plain tuples, read through the driver's own cursor: checks read millions of rows,
    and SQLAlchemy's Row objects and result processing cost about as much as the driver's fetch itself. The
    SQL is still compiled by SQLAlchemy (named :params, in the driver's parameter style)."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(*_driver_sql(conn, sql, params))
        return cursor.fetchall()
    finally:
        cursor.close()


_CURSOR_NUMBERS = itertools.count()  # a name per server-side cursor: two batch readers may be open at once


def batches(conn: Connection, sql: str, params: dict | None = None, size: int = 100_000) -> Iterator[list[tuple]]:
    """A query's rows in lists of at most `size` tuples: a check that goes through a whole table once holds one
    batch in memory, not the table. PostgreSQL streams through a server-side cursor (a client cursor holds the
    whole result); SQLite's cursor steps through the result as it is fetched. The server-side cursor is never
    planned in parallel: for queries that read a table once, which one process reads fast enough."""
    dbapi = conn.connection.dbapi_connection
    named = conn.dialect.name == "postgresql"
    cursor = dbapi.cursor(name=f"hotelseed_batches_{next(_CURSOR_NUMBERS)}") if named else dbapi.cursor()
    try:
        cursor.execute(*_driver_sql(conn, sql, params))
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()


def int_batches(conn: Connection, sql: str, params: dict | None = None, size: int = 200_000) -> Iterator[np.ndarray]:
    """`batches` of a query whose columns are all integers, never NULL: one int64 array per batch (a row per
    result row)."""
    for rows in batches(conn, sql, params, size):
        yield np.array(rows, dtype=np.int64)


def arrays(conn: Connection, sql: str, params: dict | None = None) -> list[np.ndarray]:
    """A query's result as one NumPy array per column (object arrays; callers convert what they compare)."""
    rows = fetch(conn, sql, params)
    if not rows:
        return [np.array([], dtype=object) for _ in conn.execute(sa.text(sql + " LIMIT 0"), params or {}).keys()]
    table = np.empty((len(rows), len(rows[0])), dtype=object)
    table[:] = rows
    return list(table.T)


def ints(values: np.ndarray, missing: int = -1) -> np.ndarray:
    """An object column of integers (None = `missing`) as int64."""
    null = values == None  # noqa: E711 - elementwise on object arrays
    if null.any():
        values = np.where(null, missing, values)
    return values.astype(np.int64)


_BUCKET = 900  # every UTC offset change since 1970 falls on a quarter hour


_OFFSETS: dict[tuple[str, int], int] = {}  # (time zone, quarter-hour bucket) → UTC offset in seconds


def local_day(tz: str, ts: np.ndarray) -> np.ndarray:
    """Local calendar day numbers (days since 1970-01-01) of UTC epoch seconds in time zone `tz`, exactly:
    the offset is looked up once per quarter-hour bucket that occurs (and remembered: checks go property by
    property, and properties share time zones and dates), not once per value."""
    import datetime as dt
    import zoneinfo

    ts = np.asarray(ts, dtype=np.int64)
    if not len(ts):
        return ts
    zone = zoneinfo.ZoneInfo(tz)
    buckets, inverse = np.unique(ts // _BUCKET, return_inverse=True)
    offsets = np.empty(len(buckets), dtype=np.int64)
    for i, b in enumerate(buckets.tolist()):
        off = _OFFSETS.get((tz, b))
        if off is None:
            off = _OFFSETS[(tz, b)] = int(dt.datetime.fromtimestamp(b * _BUCKET, zone).utcoffset().total_seconds())
        offsets[i] = off
    return (ts + offsets[inverse.reshape(-1)]) // 86_400
