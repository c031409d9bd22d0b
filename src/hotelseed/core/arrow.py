"""Columns as Apache Arrow arrays, typed by the table's SQLAlchemy columns, and written as Parquet or CSV.

The same classification as the database loader (core/loader._kind), so a file holds what the database would:
integers, booleans, dates, UTC timestamps, decimals (money in minor units becomes decimal128(12, 2) exactly,
built from the unscaled integers, never through floats), text, and JSON and UUIDs as text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from hotelseed.core import pgbinary
from hotelseed.core.columns import Columns
from hotelseed.core.loader import _kind


def arrow_type(col: sa.Column) -> pa.DataType:
    kind = _kind(col)
    t = col.type
    if kind == "int":
        return pa.int64() if isinstance(t, sa.BigInteger) else pa.int16() if isinstance(t, sa.SmallInteger) else pa.int32()
    if kind == "money":
        return pa.decimal128(12, 2)
    if kind == "decimal":
        return pa.decimal128(int(getattr(t, "precision", None) or 18), int(getattr(t, "scale", None) or 0))
    if kind == "datetime":
        return pa.timestamp("s", tz="UTC")
    if kind == "date":
        return pa.date32()
    if kind == "bool":
        return pa.bool_()
    return pa.string()  # text, enums, JSON (canonical text), UUIDs (canonical text)


def _decimal(unscaled: np.ndarray, null: np.ndarray, typ: pa.DataType) -> pa.Array:
    lo = np.where(null, 0, unscaled).astype(np.int64)
    words = np.stack([lo, np.where(lo < 0, -1, 0).astype(np.int64)], axis=1)  # 128-bit two's complement, LE
    arr = pa.Array.from_buffers(typ, len(lo), [None, pa.py_buffer(words.tobytes())])
    return pc.if_else(pa.array(~null), arr, pa.scalar(None, typ)) if null.any() else arr


def to_arrow(table: sa.Table, cols: Columns) -> pa.Table:
    """Every column of `table` (absent ones as nulls), in the table's column order."""
    n = len(cols)
    arrays, fields = [], []
    for col in table.columns:
        typ = arrow_type(col)
        fields.append(pa.field(col.name, typ))
        values = cols.data.get(col.name)
        if values is None:
            arrays.append(pa.nulls(n, typ))
            continue
        kind = _kind(col)
        null = pgbinary._nulls(values)
        if kind in ("money", "decimal"):
            scale = 2 if kind == "money" else int(getattr(col.type, "scale", None) or 0)
            if kind == "decimal" or values.dtype == object:
                as_float = np.array([0.0 if v is None else float(v) for v in values.tolist()]) if values.dtype == object \
                    else values.astype(float)
                unscaled = np.round(as_float * (10**scale if kind == "decimal" else 1)).astype(np.int64)
            else:
                unscaled = values.astype(np.int64)
            arrays.append(_decimal(unscaled, null, typ))
        elif kind == "datetime":
            if values.dtype == object:
                values = np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "s") for v in values],
                                  dtype="datetime64[s]")
            arrays.append(pa.array(values.astype("datetime64[s]"), mask=np.isnat(values)).cast(typ))
        elif kind == "date":
            if values.dtype == object:
                values = np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in values],
                                  dtype="datetime64[D]")
            arrays.append(pa.array(values.astype("datetime64[D]"), mask=np.isnat(values), type=typ))
        elif kind == "json":
            arrays.append(pa.array([None if v is None else pgbinary.canonical_json(v) for v in values.tolist()], typ))
        elif kind == "uuid":
            arrays.append(pa.array([None if v is None else str(v) for v in values.tolist()], typ))
        elif kind in ("int", "bool"):
            if values.dtype == object:
                arrays.append(pa.array([None if v is None else v for v in values.tolist()], typ))
            else:
                arrays.append(pa.array(values, type=typ))
        else:
            arrays.append(pa.array([None if v is None else str(v) for v in values.tolist()], typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _csv_ready(t: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 text with Z (Arrow's CSV writer is slow on zoned timestamps; text is unambiguous)."""
    cols = []
    for name, col in zip(t.column_names, t.columns):
        if pa.types.is_timestamp(col.type):
            secs = col.cast(pa.timestamp("s")).to_numpy(zero_copy_only=False)
            text = np.char.add(np.datetime_as_string(secs.astype("datetime64[s]"), unit="s").astype(object), "Z")
            cols.append(pa.array(np.where(np.isnat(secs), None, text), pa.string()))
        else:
            cols.append(col)
    return pa.Table.from_arrays(cols, names=t.column_names)


class TableFiles:
    """One file per table for this writer (a shard's part), appended to partition by partition: memory holds one
    partition's rows, never a table's."""

    def __init__(self, out: Path, fmt: str, part: str):
        if fmt not in ("parquet", "csv"):
            raise ValueError(fmt)
        self.out, self.fmt, self.part = out, fmt, part
        self.writers: dict[str, object] = {}
        self.rows: dict[str, int] = {}

    def path(self, table: str) -> Path:
        return self.out / table / f"{self.part}.{self.fmt}"

    def write(self, table: sa.Table, cols: Columns) -> int:
        if not len(cols):
            return 0
        data = to_arrow(table, cols)
        w = self.writers.get(table.name)
        if w is None:
            path = self.path(table.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "parquet":
                w = pq.ParquetWriter(path, data.schema, compression="zstd")
            else:
                data = _csv_ready(data)
                w = pacsv.CSVWriter(path, data.schema)
            self.writers[table.name] = w
        elif self.fmt == "csv":
            data = _csv_ready(data)
        w.write_table(data)
        self.rows[table.name] = self.rows.get(table.name, 0) + len(cols)
        return len(cols)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers.clear()
