"""Loading one dataset from several machines: `hotelseed shard prepare | load i/n | finish`.

The pg_restore --jobs model, across machines: `prepare` (once) wipes the module data, creates the catalogue
and the staff, records the run's options and sets aside the secondary indexes, exclusion constraints and
foreign keys of the tables to be loaded; `load i/n` (on n machines, in any order, at the same time) generates
shard i's partitions (core/partition.Shard: partition positions i, i+n, ...) from those recorded options and
COPYs them in its own transaction; `finish` (once, after every shard) rebuilds and validates what was set
aside, refreshes statistics and runs every check. Ids come from the partitions, never from sequences, so the
union of the shards is, row for row, the single-process run (tests/test_scale.py proves it).

Each step is all-or-nothing on its own; between `prepare` and `finish` the database is in a loading state that
every other writing command refuses (seed.refuse_during_shards); `abandon` returns it to an empty, constrained
state. PostgreSQL and compatible databases only: SQLite cannot be written by several machines.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotelseed import dataset
from hotelseed.cleanup import REFUSE, cleanup
from hotelseed.core import signals
from hotelseed.core.bulk import Deferred, analyze, rebuild, set_aside
from hotelseed.core.columns import Columns
from hotelseed.core.db import guarded_transaction
from hotelseed.core.errors import DatabaseStateError, UsageError
from hotelseed.core.partition import Shard
from hotelseed.core.pipeline import spool_directory
from hotelseed.guard import Consent, check_connection, check_target
from hotelseed.modules.identity.generate import StaffDirectory, Users
from hotelseed.modules.properties.catalogue import next_id, read_world
from hotelseed.core.partition import STRIDE
from hotelseed.plan import Options, make_plan, parse_as_of
from hotelseed.profile import load_profile
from hotelseed.schema_admin import require_current
from hotelseed.master import (Progress, TableSink, _existing_staff, default_workers, group_payloads, load_partitions,
                              open_run, run_lock, staff_for, verify_run)

SHARDS = "hotelseed_shards"


def _need_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise UsageError("a sharded load needs PostgreSQL (or a PostgreSQL-compatible database); to split the "
                         "work across machines without one, write files: hotelseed export --shard i/n")


def _open_plan(conn) -> tuple[int, int, Deferred]:
    row = conn.execute(sa.text(f"SELECT run_id, shard_count, deferred FROM {SHARDS} WHERE shard_index = -1 AND "
                               "finished_at IS NULL ORDER BY run_id DESC LIMIT 1")).first()
    if row is None:
        raise DatabaseStateError("no sharded load is in progress on this database: run hotelseed shard prepare first")
    deferred = row[2] if isinstance(row[2], dict) else json.loads(row[2])
    return int(row[0]), int(row[1]), Deferred.from_json(deferred)


def _options_of(conn, run_id: int) -> Options:
    raw = conn.execute(sa.text("SELECT options FROM seed_runs WHERE id = :r"), {"r": run_id}).scalar_one()
    data = dict(raw if isinstance(raw, dict) else json.loads(raw))
    data["as_of"] = parse_as_of(data["as_of"]) if data.get("as_of") else None
    return Options(**data)


def prepare(engine: Engine, options: Options, shards: int, consent: Consent = Consent(),
            progress: Progress | None = None, foreign: str = REFUSE, retire_unplanned: bool = False) -> int:
    """Wipe, catalogue, staff, the run's options and the shard plan; indexes and constraints set aside.
    `foreign` and `retire_unplanned`: as master.open_run."""
    _need_postgresql(engine)
    if not 1 <= shards <= 10_000:
        raise UsageError("--shards must be between 1 and 10000")
    say = progress or (lambda step, rows, secs: None)
    url = engine.url.render_as_string(hide_password=False)
    check_target(url, consent)
    plan = make_plan(options, load_profile(options.profile))
    with guarded_transaction(engine) as conn:
        run = open_run(conn, plan, consent, url, say, foreign=foreign, retire_unplanned=retire_unplanned)
        staff_users, _staff, _member_role = staff_for(conn, plan, run.world, run.run_id)
        sink = TableSink(conn, say)
        sink.write(sink.encode({"users": staff_users.users, "user_roles": staff_users.roles}), label="staff")
        deferred = set_aside(conn, dataset.written_tables())
        conn.execute(sa.text(f"INSERT INTO {SHARDS} (run_id, shard_index, shard_count, deferred) VALUES "
                             "(:r, -1, :n, :d)").bindparams(sa.bindparam("d", type_=sa.JSON)),
                     {"r": run.run_id, "n": shards, "d": deferred.as_json()})
        signals.commit(conn)
    return run.run_id


def load(engine: Engine, shard: Shard, workers: int | None = None, consent: Consent = Consent(),
         progress: Progress | None = None) -> dict[str, int]:
    """Generate and COPY shard i's partitions into the prepared database, in one transaction."""
    _need_postgresql(engine)
    say = progress or (lambda step, rows, secs: None)
    check_target(engine.url.render_as_string(hide_password=False), consent)
    workers = default_workers() if workers is None else workers
    with guarded_transaction(engine) as conn:
        run_lock(conn, f"shard-{shard.index}")
        require_current(conn, auto_create=False)
        check_connection(conn, consent)
        run_id, count, _deferred = _open_plan(conn)
        if count != shard.count:
            raise UsageError(f"--shard {shard}: the prepared load has {count} shards")
        if conn.execute(sa.text(f"SELECT 1 FROM {SHARDS} WHERE run_id = :r AND shard_index = :i"),
                        {"r": run_id, "i": shard.index}).first():
            raise DatabaseStateError(f"shard {shard} of run {run_id} is already loaded")
        plan = make_plan(_options_of(conn, run_id), load_profile(_options_of(conn, run_id).profile))
        world = read_world(conn, plan.profile)
        existing, _has_superadmin = _existing_staff(conn)
        ctx = dataset.prepare(plan, world, StaffDirectory(existing), run_id)
        sink = TableSink(conn, say)
        group = None
        if shard.owns(0):  # the staff went in with prepare; members' roles follow theirs
            none = Users(Columns("users"), Columns("user_roles"))
            group = dataset.group_partition(ctx, none, next_id(conn, "user_roles", below=STRIDE))
        mine = [pi for pi in range(len(world.properties)) if shard.owns(pi + 1)]
        with spool_directory(workers) as spool_dir:
            load_partitions(conn, sink, ctx, group and group_payloads(sink, group, fk_live=False), mine, workers,
                            spool_dir=spool_dir)
        conn.execute(sa.text(f"INSERT INTO {SHARDS} (run_id, shard_index, shard_count, rows, finished_at) VALUES "
                             "(:r, :i, :n, :rows, :at)"), {"r": run_id, "i": shard.index, "n": shard.count,
                                                           "rows": sum(sink.written.values()),
                                                           "at": dt.datetime.now(dt.timezone.utc)})
        signals.commit(conn)
    return sink.written


def finish(engine: Engine, consent: Consent = Consent(), progress: Progress | None = None):
    """Rebuild and validate the indexes and constraints, refresh statistics, verify; COMMIT only if all holds."""
    _need_postgresql(engine)
    say = progress or (lambda step, rows, secs: None)
    check_target(engine.url.render_as_string(hide_password=False), consent)
    timings: dict[str, float] = {}
    with guarded_transaction(engine) as conn:
        run_lock(conn)
        check_connection(conn, consent)
        run_id, count, deferred = _open_plan(conn)
        done = {r[0] for r in conn.execute(sa.text(f"SELECT shard_index FROM {SHARDS} WHERE run_id = :r AND "
                                                   "shard_index >= 0"), {"r": run_id})}
        missing = sorted(set(range(count)) - done)
        if missing:
            raise DatabaseStateError(f"shards not loaded yet: {', '.join(f'{i}/{count}' for i in missing)}")
        options = _options_of(conn, run_id)
        plan = make_plan(options, load_profile(options.profile))
        t0 = time.perf_counter()
        rebuild(conn, deferred)
        analyze(conn, dataset.written_tables())
        say("indexes and constraints", 0, time.perf_counter() - t0)
        report = verify_run(conn, plan, say, timings)
        conn.execute(sa.text(f"UPDATE {SHARDS} SET finished_at = :at WHERE run_id = :r AND shard_index = -1"),
                     {"r": run_id, "at": dt.datetime.now(dt.timezone.utc)})
        signals.commit(conn)
    return report


def abandon(engine: Engine, consent: Consent = Consent(), foreign: str = REFUSE) -> None:
    """Give up a sharded load: delete what the shards loaded and put the indexes and constraints back."""
    _need_postgresql(engine)
    check_target(engine.url.render_as_string(hide_password=False), consent)
    with guarded_transaction(engine) as conn:
        run_lock(conn)
        check_connection(conn, consent)
        run_id, _count, deferred = _open_plan(conn)
        cleanup(conn, keep_staff=True, foreign=foreign)
        rebuild(conn, deferred)
        conn.execute(sa.text(f"UPDATE {SHARDS} SET finished_at = :at WHERE run_id = :r AND shard_index = -1"),
                     {"r": run_id, "at": dt.datetime.now(dt.timezone.utc)})
        signals.commit(conn)
