"""`hotelseed export`: the same dataset as files, without any database.

The catalogue is built as a fresh database would have it (ids from 1) in a scratch in-memory SQLite, read back
as the world the generators work on, and written with everything else. Each table goes to
`OUT/<table>/part-<i>-of-<n>.<format>`: one file per table per shard, so n machines can each write their part
(`--shard i/n`) and DuckDB, Spark or a warehouse read `OUT/<table>/*.parquet` as one table. Shard 0 holds the
catalogue and the group's partition; property k (in profile order) belongs to shard (k + 1) mod n.
"""

from __future__ import annotations

import gc
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from hotelseed import dataset
from hotelseed.core.arrow import TableFiles
from hotelseed.core.columns import Columns, object_column
from hotelseed.core.loader import _kind
from hotelseed.core.partition import Shard
from hotelseed.core.schema import BOOKKEEPING_TABLES
from hotelseed.core.pipeline import ordered_results
from hotelseed.models import metadata
from hotelseed.modules.identity.generate import generate_staff
from hotelseed.modules.properties.catalogue import ensure_catalogue, read_world
from hotelseed.plan import Options, make_plan
from hotelseed.profile import load_profile

RUN_ID = 1  # the seed_run_id of exported rows: the first run of a fresh database


def catalogue_tables() -> list[sa.Table]:
    written = set(dataset.written_tables())
    return [t for t in metadata.sorted_tables if t.name not in written and t.name not in BOOKKEEPING_TABLES]


def _read_table(conn, table: sa.Table) -> Columns:
    rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
    cols = Columns(table.name)
    for i, col in enumerate(table.columns):
        values = [r[i] for r in rows]
        if _kind(col) == "money":  # the database gives currency units; Columns carry minor units
            values = [None if v is None else int((Decimal(str(v)) * 100).to_integral_value()) for v in values]
        cols[col.name] = object_column(values)
    return cols


def export(options: Options, out: Path, fmt: str = "parquet", shard: Shard = Shard(), workers: int = 1,
           progress=None) -> dict[str, int]:
    """Write this shard's part of the dataset under `out`. Returns rows written per table."""
    say = progress or (lambda step, rows, secs: None)
    plan = make_plan(options, load_profile(options.profile))
    profile = plan.profile
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    with engine.begin() as conn:
        metadata.create_all(conn)
        ensure_catalogue(conn, profile)
        world = read_world(conn, profile)
        catalogue = [(t, _read_table(conn, t)) for t in catalogue_tables()] if shard.owns(0) else []
    files = TableFiles(Path(out), fmt, f"part-{shard.index}-of-{shard.count}")
    try:
        t0 = time.perf_counter()
        staff_users, staff = generate_staff(plan, world, [], False, RUN_ID, 1)
        ctx = dataset.prepare(plan, world, staff, RUN_ID)
        say("prepare (members, loyalty)", 0, time.perf_counter() - t0)
        if shard.owns(0):
            t0 = time.perf_counter()
            rows = sum(files.write(t, c) for t, c in catalogue)
            group = dataset.group_partition(ctx, staff_users, 1 + len(staff_users.roles))
            rows += sum(files.write(metadata.tables[n], c) for n, c in group.items())
            say("catalogue and group", rows, time.perf_counter() - t0)
            del group
        ctx.release()  # the workers need the members and their trips, not the group's tables
        gc.collect()
        mine = [pi for pi in range(len(world.properties)) if shard.owns(pi + 1)]
        t0 = time.perf_counter()
        for pi, tables in ordered_results(lambda i: dataset.property_partition(ctx, i), mine, workers):
            rows = sum(files.write(metadata.tables[n], c) for n, c in tables.items())
            say(f"property {world.properties[pi].slug}", rows, time.perf_counter() - t0)
            t0 = time.perf_counter()
    finally:
        files.close()
    return dict(sorted(files.rows.items()))
