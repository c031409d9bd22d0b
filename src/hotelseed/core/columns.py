"""A table's rows as columns: the unit that generators produce and loaders consume."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Columns:
    """Named, equal-length columns (NumPy arrays, or object arrays where a value may be None)."""

    table: str
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return 0 if not self.data else len(next(iter(self.data.values())))

    def __setitem__(self, name: str, values) -> None:
        arr = values if isinstance(values, np.ndarray) else _as_array(values)
        if self.data and len(arr) != len(self):
            raise ValueError(f"{self.table}.{name}: {len(arr)} values for {len(self)} rows")
        self.data[name] = arr

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def take(self, index: np.ndarray) -> "Columns":
        return Columns(self.table, {k: v[index] for k, v in self.data.items()})

    def chunks(self, size: int):
        n = len(self)
        for start in range(0, n, size):
            yield Columns(self.table, {k: v[start : start + size] for k, v in self.data.items()})

    @staticmethod
    def concat(table: str, parts: list["Columns"]) -> "Columns":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Columns(table)
        keys = list(parts[0].data)
        return Columns(table, {k: _concat([p.data[k] for p in parts]) for k in keys})


def _as_array(values) -> np.ndarray:
    values = list(values)
    if any(v is None for v in values) or any(isinstance(v, (str, dict, list)) for v in values[:1]):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    return np.asarray(values)


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    if any(a.dtype == object for a in arrays):
        return np.concatenate([a.astype(object) for a in arrays])
    return np.concatenate(arrays)


NULL_TIME = np.datetime64("NaT")


def object_column(values) -> np.ndarray:
    """Any iterable as an object column (None stays None = SQL NULL)."""
    values = list(values)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def time_column(epoch_seconds, never: int | None = None) -> np.ndarray:
    """Epoch seconds as datetime64[s]; None (or values >= `never`) become NaT = SQL NULL. One cast for the
    column, not a datetime64 made per value."""
    if isinstance(epoch_seconds, np.ndarray) and epoch_seconds.dtype.kind in "iu":
        secs = epoch_seconds.astype(np.int64)
        null = secs >= never if never is not None else np.zeros(len(secs), dtype=bool)
    else:
        vals = list(epoch_seconds)
        null = np.fromiter((v is None or (never is not None and v >= never) for v in vals), dtype=bool,
                           count=len(vals))
        secs = np.fromiter((0 if missing else int(v) for v, missing in zip(vals, null.tolist())), dtype=np.int64,
                           count=len(vals))
    out = secs.astype("datetime64[s]")
    out[null] = NULL_TIME
    return out


def labels(values) -> tuple[list, np.ndarray]:
    """The distinct values of a column of labels (strings, in an object or a string array), in order of first
    appearance, and each row's position among them: one dict lookup per row, where `np.unique` would sort the
    Python objects and `values == label` compare every row once per label."""
    seen: dict = {}
    index = np.fromiter((seen.setdefault(v, len(seen)) for v in np.asarray(values).tolist()), dtype=np.int64,
                        count=len(values))
    return list(seen), index
