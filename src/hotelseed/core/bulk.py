"""Load first, index and constrain after: the pg_restore order, inside the caller's one transaction.

PostgreSQL checks every foreign key and maintains every index row by row during COPY; loading-facts.md
measures ~31k rows/s that way against ~162k rows/s for data first, indexes and foreign keys after. So for
the tables about to be loaded, `deferred_constraints` drops their secondary indexes, exclusion constraints
and foreign keys (reading their exact definitions back from the catalog), lets the caller load, and then
recreates them: CREATE INDEX, ADD CONSTRAINT … EXCLUDE, and ADD CONSTRAINT … FOREIGN KEY, each of which
validates all rows at once. DDL is transactional in PostgreSQL: if anything fails or the process dies, the
transaction rolls back with the constraints as they were. Primary keys, unique and check constraints stay:
they are what make the data right while it arrives, and on PostgreSQL cost little.

SQLite cannot drop a foreign key, but a connection can stop enforcing them before its transaction begins
(core.db.guarded_transaction): master-complete then cleans up and loads without a parent lookup per row and
without the row-by-row DELETEs that enforcement forces on every table with a foreign key, and `rebuild` proves
them all at once with PRAGMA foreign_key_check (each child row looked up in its parent's key, table by table).
Its secondary indexes and triggers (the stays' no-overlap guard) are set aside and rebuilt the same way. (An
earlier attempt deferred SQLite's foreign keys to COMMIT instead: 8× slower, because each deferred check then
scans the child table without its index; docs/BENCHMARKS.md.) Its CHECK constraints are not cheap: an enum's
`status IN ('HOLD', …)` costs SQLite far more per inserted row than the insert itself (1.19M audit log rows:
10.7 s with their three checks, 2.4 s without). So the load runs with `PRAGMA ignore_check_constraints`, and the
rebuild validates each table's checks, read back from its CREATE TABLE, in one query per table: the same rule
proven once for all rows (0.4 s for those 1.19M), as PostgreSQL validates a foreign key.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core.errors import DatabaseStateError


@dataclass
class Deferred:
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX …)
    constraints: list[tuple[str, str, str, str]] = field(default_factory=list)  # (table, name, kind, definition)
    triggers: list[tuple[str, str]] = field(default_factory=list)  # SQLite: (name, CREATE TRIGGER …)
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # SQLite: (table, name, expression)
    foreign_key_check: bool = False  # SQLite, foreign keys not enforced in this transaction: prove them all after

    def as_json(self) -> dict:
        return {"indexes": [list(i) for i in self.indexes], "constraints": [list(c) for c in self.constraints],
                "triggers": [list(t) for t in self.triggers], "checks": [list(c) for c in self.checks]}

    @staticmethod
    def from_json(data: dict) -> "Deferred":
        return Deferred([tuple(i) for i in data.get("indexes", [])], [tuple(c) for c in data.get("constraints", [])],
                        [tuple(t) for t in data.get("triggers", [])], [tuple(c) for c in data.get("checks", [])])


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


_CHECK = re.compile(r'(?:CONSTRAINT\s+"?(\w+)"?\s+)?\bCHECK\s*\(', re.IGNORECASE)


def check_constraints(create_table: str) -> list[tuple[str, str]]:
    """(name, expression) of every CHECK in a CREATE TABLE statement: the text between the parentheses after
    CHECK, found by counting them outside quoted strings and names. Unnamed checks are named by position."""
    out = []
    for m in _CHECK.finditer(create_table):
        depth, quote, i = 1, None, m.end()
        while depth:
            ch = create_table[i]
            if quote:
                quote = None if ch == quote else quote  # a doubled quote closes and reopens: same result
            elif ch in "'\"`[":
                quote = "]" if ch == "[" else ch
            else:
                depth += {"(": 1, ")": -1}.get(ch, 0)
            i += 1
        out.append((m.group(1) or f"check {len(out) + 1}", create_table[m.end():i - 1].strip()))
    return out


def _sqlite_collect(conn: Connection, tables: list[str]) -> Deferred:
    """SQLite: the secondary indexes (those with SQL of their own; PRIMARY KEY and UNIQUE constraints' automatic
    indexes have none and stay), the triggers (the stays' no-overlap guard) and the CHECK constraints of
    `tables`. Its foreign keys cannot be dropped and stay live: each check is one lookup in the parent's primary
    key, which stays."""
    out = Deferred()
    marks = ", ".join(f":t{i}" for i in range(len(tables)))
    params = {f"t{i}": t for i, t in enumerate(tables)}
    for kind, name, sql in conn.execute(sa.text(
            f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'table') "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type, name"), params).all():
        if kind == "table":
            out.checks += [(name, check, expression) for check, expression in check_constraints(sql)]
        else:
            (out.indexes if kind == "index" else out.triggers).append((name, sql))
    return out


def _validate_checks(conn: Connection, checks: list[tuple[str, str, str]]) -> None:
    """Prove the CHECK constraints that the load ignored, one query per table; a violation fails as SQLite's
    own check would have (sqlite3.IntegrityError, 'CHECK constraint failed: name'), so the caller rolls back."""
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, name, expression in checks:
        by_table.setdefault(table, []).append((name, expression))
    for table, table_checks in by_table.items():
        broken = " OR ".join(f"NOT ({expression})" for _name, expression in table_checks)
        if conn.exec_driver_sql(f'SELECT 1 FROM "{table}" WHERE {broken} LIMIT 1').first() is None:
            continue
        for name, expression in table_checks:
            count = conn.exec_driver_sql(f'SELECT count(*) FROM "{table}" WHERE NOT ({expression})').scalar()
            if count:
                raise sqlite3.IntegrityError(f"CHECK constraint failed: {name} ({count} rows of {table})")


def prove_foreign_keys(conn: Connection) -> None:
    """SQLite: prove every foreign key of the database (PRAGMA foreign_key_check: each child row looked up in its
    parent's key, table by table); a violation fails the transaction (DatabaseStateError). For a transaction
    that did not enforce them (core.db.guarded_transaction). Other databases enforce their own: nothing to do."""
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, rowid, parent, _fk = broken[0]
        n = len(broken)
        # Tables the tool does not own that refer to its tables were refused or cleared before (cleanup.foreign_rows):
        # this is a bug, or such a table referring to itself. The transaction rolls back either way.
        raise DatabaseStateError(
            f"foreign keys broken, nothing was changed: {n} row{'' if n == 1 else 's'} (first: {table} rowid {rowid}) "
            f"refer to a row of {parent} that is not there")


def set_aside(conn: Connection, tables: list[str]) -> Deferred:
    """Drop what slows a bulk load on `tables` and return how to rebuild it."""
    if conn.dialect.name == "sqlite":
        deferred = _sqlite_collect(conn, tables)
        for name, _sql in deferred.triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for name, _sql in deferred.indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        if deferred.checks:  # for this connection only; `rebuild` turns it off and proves the rows
            conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        deferred.foreign_key_check = not conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        return deferred
    if conn.dialect.name != "postgresql":
        return Deferred()
    deferred = _pg_collect(conn, tables)
    for table, name, _kind, _definition in deferred.constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _sql in deferred.indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return deferred


def rebuild(conn: Connection, deferred: Deferred) -> None:
    """Recreate and validate what `set_aside` dropped: CHECK constraints (SQLite), indexes, then exclusion
    constraints, then foreign keys."""
    if deferred.checks:
        conn.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
        _validate_checks(conn, deferred.checks)
    if deferred.foreign_key_check:
        prove_foreign_keys(conn)
    for _name, sql in deferred.indexes:
        conn.exec_driver_sql(sql)
    for _name, sql in deferred.triggers:  # SQLite's stay-overlap guard: the rows already in are proven by
        conn.exec_driver_sql(sql)          # the stays.no_overlap check, which every seed runs before COMMIT
    # Exclusion constraints before foreign keys (contype order 'x' > 'f'), as in the collection order.
    for table, name, _kind, definition in deferred.constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


@contextmanager
def deferred_constraints(conn: Connection, tables: list[str]):
    """Drop what slows a bulk load on `tables`, yield, then rebuild and validate it (same transaction)."""
    deferred = set_aside(conn, tables)
    try:
        yield deferred
    except BaseException:
        if deferred.checks:  # the transaction rolls back; the connection must not go on ignoring checks
            with suppress(Exception):  # (a broken connection is closed anyway; the first error is the one to see)
                conn.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
        raise
    rebuild(conn, deferred)


def analyze(conn: Connection, tables: list[str]) -> None:
    """Fresh planner statistics for freshly loaded tables, as one should after pg_restore: without them the
    verification queries are planned for empty tables (nested loops over hundreds of thousands of rows).

    On PostgreSQL from a sample of 3,000 rows a table (statistics target 10) instead of 30,000: the checks need
    row counts and rough distributions, and were as fast with them (medium seed, all checks: 9.4 s against 10.2 s
    with the default target, ANALYZE 0.3 s against 2.5 s). The rows this transaction wrote count as changes
    for autovacuum, which analyzes the tables again at the server's own target once they are committed."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL default_statistics_target = 10")
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
        conn.exec_driver_sql("SET LOCAL default_statistics_target = DEFAULT")
    else:
        conn.exec_driver_sql("ANALYZE")
