"""Bulk loading of Columns into a table, inside the caller's transaction.

PostgreSQL: COPY ... FROM STDIN in text format, built column by column (loading-facts.md: row-by-row Python
tuples cap near 100k rows/s; pre-formatted text avoids that). SQLite: one prepared executemany per chunk.
Both use the table's SQLAlchemy column types to encode values identically, so the two databases hold the
same logical content.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core.columns import Columns
from hotelseed.core.failpoints import failpoint
from hotelseed.core.schema import Money

import os

CHUNK_ROWS = int(os.environ.get("HOTELSEED_CHUNK_ROWS", "50000"))


def _is_json(col: sa.Column) -> bool:
    t = col.type
    return isinstance(t, sa.JSON) or isinstance(getattr(t, "impl", None), sa.JSON) or "JSON" in type(t).__name__


def _kind(col: sa.Column) -> str:
    t = col.type
    if isinstance(t, Money):
        return "money"
    if _is_json(col) or isinstance(getattr(t, "_variant_mapping", {}).get("postgresql"), sa.JSON):
        return "json"
    if isinstance(t, sa.Uuid):
        return "uuid"
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, (sa.Integer, sa.BigInteger, sa.SmallInteger)):
        return "int"
    if isinstance(t, sa.Numeric):
        return "decimal"
    return "text"


def encode_column(values: np.ndarray, kind: str, dialect: str) -> list:
    """Encode one column to the Python values the driver (SQLite) or COPY text (PostgreSQL) expects."""
    if kind == "datetime":
        if values.dtype == object:
            return [None if v is None else _dt_text(v, dialect) for v in values]
        text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
        nat = np.isnat(values)
        sep_text = np.char.replace(text, "T", " ")
        suffix = "+00" if dialect == "postgresql" else ".000000"  # SQLAlchemy's SQLite storage format
        return [None if n else s + suffix for s, n in zip(sep_text.tolist(), nat.tolist())]
    if kind == "date":
        if values.dtype == object:
            return [None if v is None else str(np.datetime64(v, "D")) for v in values]
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").tolist()
        return [None if t == "NaT" else t for t in text]
    if kind == "money":
        if values.dtype == object:
            return [None if v is None else _money(int(v)) for v in values]
        return [_money(v) for v in values.astype(np.int64).tolist()]
    if kind == "json":
        return [None if v is None else json.dumps(v, sort_keys=True, separators=(",", ":")) for v in values]
    if kind == "uuid":
        if dialect == "postgresql":
            return [None if v is None else str(v) for v in values]
        return [None if v is None else (v.hex if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).hex) for v in values]
    if kind == "bool":
        if values.dtype == object:
            return [None if v is None else bool(v) for v in values]
        return values.astype(bool).tolist()
    if kind == "int":
        if values.dtype == object:
            return [None if v is None else int(v) for v in values]
        return values.astype(np.int64).tolist()
    if kind == "decimal":
        return [None if v is None else str(v) for v in values.tolist()]
    return [None if v is None else str(v) for v in values.tolist()]


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def _dt_text(v, dialect: str) -> str:
    if isinstance(v, dt.datetime):
        v = np.datetime64(v.replace(tzinfo=None), "s")
    text = str(np.datetime64(v, "s")).replace("T", " ")
    return text + ("+00" if dialect == "postgresql" else ".000000")


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(encoded: list, kind: str) -> list[str]:
    if kind in ("int", "money", "date", "datetime", "uuid", "decimal"):
        return ["\\N" if v is None else v if isinstance(v, str) else str(v) for v in encoded]
    if kind == "bool":
        return ["\\N" if v is None else ("t" if v else "f") for v in encoded]
    return ["\\N" if v is None else v.translate(_ESCAPES) for v in encoded]


def load(conn: Connection, table: sa.Table, cols: Columns, chunk_rows: int | None = None) -> int:
    """Insert all rows of `cols` into `table` in the connection's open transaction. Returns rows written."""
    if not len(cols):
        return 0
    names = list(cols.data)
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise KeyError(f"{table.name}: no such columns {unknown}")
    kinds = [_kind(table.c[n]) for n in names]
    dialect = conn.dialect.name
    raw = conn.connection.driver_connection
    for i, chunk in enumerate(cols.chunks(chunk_rows or CHUNK_ROWS)):
        if i == 1:
            failpoint(f"mid-load:{table.name}")  # some rows of the table are in, others not
        encoded = [encode_column(chunk.data[n], k, dialect) for n, k in zip(names, kinds)]
        if dialect == "postgresql":
            text_cols = [_copy_text(e, k) for e, k in zip(encoded, kinds)]
            payload = "\n".join(map("\t".join, zip(*text_cols))) + "\n"
            quoted = ", ".join(f'"{n}"' for n in names)
            with raw.cursor() as cur:
                with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    data = payload.encode()
                    half = len(data) // 2
                    copy.write(data[:half])
                    failpoint(f"mid-copy:{table.name}")  # half a COPY stream has been sent
                    copy.write(data[half:])
        else:
            placeholders = ", ".join("?" for _ in names)
            quoted = ", ".join(f'"{n}"' for n in names)
            cur = raw.cursor()
            try:
                cur.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})', zip(*encoded))
            finally:
                cur.close()
    return len(cols)
