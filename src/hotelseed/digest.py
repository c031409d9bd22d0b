"""A content hash of the dataset, independent of the database engine.

Values are normalised by their column type (UUIDs, UTC timestamps to the second, dates, money in cents,
booleans, canonical JSON), rows are read in primary-key order, and run bookkeeping (seed_runs,
seed_run_id) is left out: the same --seed and --as-of give the same hash on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core.schema import BOOKKEEPING_TABLES
from hotelseed.models import metadata

SKIP_TABLES = BOOKKEEPING_TABLES
SKIP_COLUMNS = {"seed_run_id"}


def _ts(value) -> str:
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff', stored in UTC
        return value[:10] + "T" + value[11:19] + "Z"
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _normaliser(col: sa.Column):
    """One function per column type, chosen once: values from either engine → the same Python value."""
    t = col.type
    impl = getattr(t, "impl", None)
    if isinstance(t, sa.Uuid):
        return lambda v: str(v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)))
    if isinstance(t, sa.DateTime):
        return _ts
    if isinstance(t, sa.Date):
        return lambda v: str(v)[:10]
    if isinstance(t, sa.Boolean):
        return bool
    if isinstance(t, sa.Numeric) or isinstance(impl, sa.Numeric):
        return lambda v: int(round(Decimal(str(v)) * 100))
    if isinstance(t, sa.JSON) or isinstance(impl, sa.JSON) or "JSON" in type(t).__name__:
        return lambda v: json.loads(v) if isinstance(v, str) else v
    return lambda v: v


def digest_rows(table: sa.Table, rows) -> str:
    """The digest of one table's rows, given as sequences in the order of the table's columns (any engine, or
    a file: values are normalised by column type)."""
    cols = [c for c in table.columns if c.name not in SKIP_COLUMNS]
    keep = [i for i, c in enumerate(table.columns) if c.name not in SKIP_COLUMNS]
    pk = [i for i, c in enumerate(cols) if c.primary_key]
    norms = [_normaliser(c) for c in cols]
    # Sorted here, not by ORDER BY: text and enum keys collate differently on the two engines.
    normal = sorted(([None if row[k] is None else f(row[k]) for k, f in zip(keep, norms)] for row in rows),
                    key=lambda r: [r[i] for i in pk])
    h = hashlib.sha256()
    for row in normal:
        h.update(json.dumps(row, sort_keys=True, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()


def table_digests(conn: Connection) -> dict[str, str]:
    out = {}
    for table in metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        sql = f'SELECT {", ".join(chr(34) + c.name + chr(34) for c in table.columns)} FROM "{table.name}"'
        out[table.name] = digest_rows(table, conn.execute(sa.text(sql)))
    return out


def dataset_digest(conn: Connection) -> str:
    h = hashlib.sha256()
    for name, d in table_digests(conn).items():
        h.update(f"{name}:{d}\n".encode())
    return h.hexdigest()
