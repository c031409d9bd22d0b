"""Bulk loading of Columns into a table, inside the caller's transaction.

PostgreSQL: COPY ... FROM STDIN (FORMAT binary), encoded column by column by core/pgbinary.py
(loading-facts.md: binary COPY is the fastest path into the server, and row-by-row Python tuples cap near
100k rows/s). The encoding is a pure function of the columns, so worker processes can do it and hand the
loader bytes. SQLite: one prepared executemany per chunk, of values a worker process may have encoded (and
pickled to a spool file) just as well: the loader's own CPU is SQLite's limit. Both use the table's SQLAlchemy
column types to encode values identically, so the two databases hold the same logical content.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import uuid
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core import pgbinary
from hotelseed.core.columns import Columns
from hotelseed.core.failpoints import failpoint
from hotelseed.core.schema import Money

# Rows encoded at a time. Encoding a chunk needs about ten times its COPY bytes in NumPy temporaries (per-field
# positions and byte matrices): at 50,000 rows a bookings chunk took 99 MB for 13 MB of output, at 10,000 rows
# 39 MB, in the same time.
CHUNK_ROWS = int(os.environ.get("HOTELSEED_CHUNK_ROWS", "10000"))


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
        suffix = "+00" if dialect == "postgresql" else ".000000"  # SQLAlchemy's SQLite storage format
        return datetime_text(values, suffix)
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
        return [None if v is None else pgbinary.canonical_json(v) for v in values]
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


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01, proleptic Gregorian (H. Hinnant, "chrono-compatible
    low-level date algorithms", days_from_civil's inverse), in integer array arithmetic: three times faster than
    NumPy's datetime64 casts to years and months."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def datetime_text(values: np.ndarray, suffix: str) -> list:
    """'YYYY-MM-DD HH:MM:SS' + suffix for each datetime64 value (None for NaT), as np.datetime_as_string would
    write it, built as one array of code points (NumPy's str dtype is UCS-4) instead of formatting each value:
    the SQLite loader's largest encoding cost (half of it for a medium partition)."""
    seconds = values.astype("datetime64[s]")
    nat = np.isnat(seconds)
    epoch = np.where(nat, 0, seconds.view(np.int64))
    days, second_of_day = np.divmod(epoch, 86_400)
    year, month, day = _civil(days)
    if len(year) and (year.min() < 1000 or year.max() > 9999):  # not four digits: the general formatter
        text = np.char.replace(np.datetime_as_string(seconds, unit="s"), "T", " ")
        return [None if n else t + suffix for t, n in zip(text.tolist(), nat.tolist())]
    layout = "0000-00-00 00:00:00" + suffix
    out = np.empty((len(values), len(layout)), dtype=np.uint32)
    out[:] = np.frombuffer(layout.encode("utf-32-le"), dtype=np.uint32)
    for at, part, width in ((0, year, 4), (5, month, 2), (8, day, 2), (11, second_of_day // 3600, 2),
                            (14, second_of_day // 60 % 60, 2), (17, second_of_day % 60, 2)):
        for k in range(width):
            out[:, at + width - 1 - k] = ord("0") + part // 10**k % 10
    text = out.view(f"<U{len(layout)}").ravel().tolist()
    for i in np.flatnonzero(nat).tolist():
        text[i] = None
    return text


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def _dt_text(v, dialect: str) -> str:
    if isinstance(v, dt.datetime):
        v = np.datetime64(v.replace(tzinfo=None), "s")
    text = str(np.datetime64(v, "s")).replace("T", " ")
    return text + ("+00" if dialect == "postgresql" else ".000000")


def _pg_field(col: sa.Column, kind: str, values: np.ndarray) -> pgbinary.Field:
    t = col.type
    if kind == "int":
        width = 8 if isinstance(t, sa.BigInteger) else 2 if isinstance(t, sa.SmallInteger) else 4
        return pgbinary.integer(values, width)
    if kind == "money":
        null = pgbinary._nulls(values)
        return pgbinary.numeric(np.where(null, 0, values).astype(np.int64), 2, null)
    if kind == "decimal":
        null = pgbinary._nulls(values)
        scale = int(getattr(t, "scale", None) or 0)
        as_float = np.array([0.0 if v is None else float(v) for v in values.tolist()]) if values.dtype == object \
            else values.astype(float)
        return pgbinary.numeric(np.round(as_float * 10**scale).astype(np.int64), scale, null)
    if kind == "datetime":
        return pgbinary.timestamp(values)
    if kind == "date":
        return pgbinary.date(values)
    if kind == "bool":
        return pgbinary.boolean(values)
    if kind == "uuid":
        return pgbinary.uuid_field(values)
    if kind == "json":
        return pgbinary.jsonb(values)
    return pgbinary.text(values)


def copy_sql(table: sa.Table, names: list[str], freeze: bool = False) -> str:
    """The COPY statement. `freeze` (only for a table truncated or created in this transaction, which the server
    checks): the rows go in frozen and each page marked all-visible, as VACUUM FREEZE would leave them (PostgreSQL
    14+). Without it the first reads after COMMIT set a hint bit on every row, writing every page of the dataset
    once more, and the first vacuum writes them all again to mark them visible and frozen."""
    quoted = ", ".join(f'"{n}"' for n in names)
    return f'COPY "{table.name}" ({quoted}) FROM STDIN (FORMAT binary{", FREEZE" if freeze else ""})'


def encode_pg(table: sa.Table, cols: Columns, chunk_rows: int | None = None) -> list[bytes]:
    """Binary COPY tuples of `cols`, one bytes object per chunk (no header or trailer): a pure function of
    the data, so a worker process can run it."""
    names = _checked_names(table, cols)
    kinds = [_kind(table.c[n]) for n in names]
    return [pgbinary.tuples([_pg_field(table.c[n], k, chunk.data[n]) for n, k in zip(names, kinds)])
            for chunk in cols.chunks(chunk_rows or CHUNK_ROWS)]


@dataclass(frozen=True)
class Spooled:
    """Bytes a worker process wrote to a spool file instead of sending them back through a pipe (an encoded
    chunk, or a table's pickled columns): a result sent through the pipe is held twice by each side at once (the
    object and its pickle), a spooled one is read back a piece at a time by the loader."""

    path: str
    offset: int
    length: int

    def read(self) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read(self.length)


class Spool:
    """Appends chunks to one file (one partition's) and says where each went."""

    def __init__(self, path: str):
        self.path = path
        self.file = open(path, "wb")

    def add(self, data: bytes) -> Spooled:
        offset = self.file.tell()
        self.file.write(data)
        return Spooled(self.path, offset, len(data))

    def close(self) -> None:
        self.file.close()


def write_pg(conn: Connection, table: sa.Table, names: list[str], payloads: list[bytes | Spooled],
             chunks_before: int = 0, freeze: bool = False) -> None:
    """Send pre-encoded binary COPY chunks (bytes, or where a worker spooled them) for `table` in one COPY
    statement. `chunks_before`: chunks of this table already sent by earlier COPYs of the run (for the
    mid-load failpoint). `freeze`: see copy_sql."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(copy_sql(table, names, freeze)) as copy:
            copy.write(pgbinary.HEADER)
            for i, data in enumerate(payloads):
                if isinstance(data, Spooled):
                    data = data.read()
                if chunks_before + i == 1:
                    failpoint(f"mid-load:{table.name}")  # some rows of the table are in, others not
                half = len(data) // 2
                copy.write(data[:half])
                if chunks_before + i == 0:
                    failpoint(f"mid-copy:{table.name}")  # half a COPY stream has been sent
                copy.write(data[half:])
            copy.write(pgbinary.TRAILER)


def _checked_names(table: sa.Table, cols: Columns) -> list[str]:
    names = list(cols.data)
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise KeyError(f"{table.name}: no such columns {unknown}")
    return names


def chunk_count(n_rows: int, chunk_rows: int | None = None) -> int:
    size = chunk_rows or CHUNK_ROWS
    return (n_rows + size - 1) // size


def encode_sqlite(table: sa.Table, cols: Columns, chunk_rows: int | None = None) -> Iterator[list[list]]:
    """Each chunk of `cols` as one list per column of the values sqlite3 binds (encode_column), chunk after chunk:
    a pure function of the data, so a worker process can run it."""
    names = _checked_names(table, cols)
    kinds = [_kind(table.c[n]) for n in names]
    for chunk in cols.chunks(chunk_rows or CHUNK_ROWS):
        yield [encode_column(chunk.data[n], k, "sqlite") for n, k in zip(names, kinds)]


def write_sqlite(conn: Connection, table: sa.Table, names: list[str], payloads: Iterable[list[list] | Spooled],
                 chunks_before: int = 0) -> None:
    """Insert encoded chunks (from encode_sqlite, or pickled where a worker spooled them) into `table`: one
    prepared executemany per chunk. `chunks_before`: as for write_pg."""
    raw = conn.connection.driver_connection
    placeholders = ", ".join("?" for _ in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    for i, columns in enumerate(payloads):
        if isinstance(columns, Spooled):
            columns = pickle.loads(columns.read())
        if chunks_before + i == 1:
            failpoint(f"mid-load:{table.name}")  # some rows of the table are in, others not
        cur = raw.cursor()
        try:
            cur.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})', zip(*columns))
        finally:
            cur.close()


def load(conn: Connection, table: sa.Table, cols: Columns, chunk_rows: int | None = None, chunks_before: int = 0) -> int:
    """Insert all rows of `cols` into `table` in the connection's open transaction. Returns rows written."""
    if not len(cols):
        return 0
    names = _checked_names(table, cols)
    if conn.dialect.name == "postgresql":
        write_pg(conn, table, names, encode_pg(table, cols, chunk_rows), chunks_before)
    else:
        write_sqlite(conn, table, names, encode_sqlite(table, cols, chunk_rows), chunks_before)
    return len(cols)
