"""Load first, index and constrain after: the pg_restore order, inside the caller's one transaction.

PostgreSQL checks every foreign key and maintains every index row by row during COPY; loading-facts.md
measures ~31k rows/s that way against ~162k rows/s for data first, indexes and foreign keys after. So for
the tables about to be loaded, `deferred_constraints` drops their secondary indexes, exclusion constraints
and foreign keys (reading their exact definitions back from the catalog), lets the caller load, and then
recreates them: CREATE INDEX, ADD CONSTRAINT … EXCLUDE, and ADD CONSTRAINT … FOREIGN KEY, each of which
validates all rows at once. DDL is transactional in PostgreSQL: if anything fails or the process dies, the
transaction rolls back with the constraints as they were. Primary keys, unique and check constraints stay:
they are what make the data right while it arrives, and cost little.

SQLite loads with everything live. It cannot drop a foreign key, and the alternative was measured
(bench/default_run.py --compare-load-order, docs/BENCHMARKS.md): deferring its foreign keys to COMMIT and
dropping the secondary indexes made the default load 8× slower (154 s against 18 s), because each deferred
check then scans the child table without its index.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass
class Deferred:
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX …)
    constraints: list[tuple[str, str, str, str]] = field(default_factory=list)  # (table, name, kind, definition)

    def as_json(self) -> dict:
        return {"indexes": [list(i) for i in self.indexes], "constraints": [list(c) for c in self.constraints]}

    @staticmethod
    def from_json(data: dict) -> "Deferred":
        return Deferred([tuple(i) for i in data.get("indexes", [])], [tuple(c) for c in data.get("constraints", [])])


def _pg_collect(conn: Connection, tables: list[str]) -> Deferred:
    out = Deferred()
    rows = conn.execute(sa.text("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema() AND t.relname = ANY(:tables) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1"""), {"tables": tables}).all()
    out.indexes = [(r[0], r[1]) for r in rows]
    rows = conn.execute(sa.text("""
        SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema() AND t.relname = ANY(:tables) AND c.contype IN ('f', 'x')
        ORDER BY c.contype DESC, t.relname, c.conname"""), {"tables": tables}).all()
    out.constraints = [(r[0], r[1], r[2], r[3]) for r in rows]
    return out


def set_aside(conn: Connection, tables: list[str]) -> Deferred:
    """Drop what slows a bulk load on `tables` (PostgreSQL) and return how to rebuild it."""
    if conn.dialect.name != "postgresql":
        return Deferred()
    deferred = _pg_collect(conn, tables)
    for table, name, _kind, _definition in deferred.constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _sql in deferred.indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return deferred


def rebuild(conn: Connection, deferred: Deferred) -> None:
    """Recreate and validate what `set_aside` dropped: indexes, then exclusion constraints, then foreign keys."""
    for _name, sql in deferred.indexes:
        conn.exec_driver_sql(sql)
    # Exclusion constraints before foreign keys (contype order 'x' > 'f'), as in the collection order.
    for table, name, _kind, definition in deferred.constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


@contextmanager
def deferred_constraints(conn: Connection, tables: list[str]):
    """Drop what slows a bulk load on `tables`, yield, then rebuild and validate it (same transaction)."""
    deferred = set_aside(conn, tables)
    yield deferred
    rebuild(conn, deferred)


def analyze(conn: Connection, tables: list[str]) -> None:
    """Fresh planner statistics for freshly loaded tables, as one should after pg_restore: without them the
    verification queries are planned for empty tables (nested loops over hundreds of thousands of rows)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
    else:
        conn.exec_driver_sql("ANALYZE")
