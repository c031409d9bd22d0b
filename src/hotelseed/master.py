"""The master seed pipeline: plan → generate → load (one transaction) → verify → report.

`master_complete` is the one entry point the CLI, the library API and the tests share.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import time
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotelseed import __version__
from hotelseed.cleanup import REFUSE, cleanup, count_plan
from hotelseed.core import loader, signals
from hotelseed.core.bulk import analyze, deferred_constraints
from hotelseed.core.columns import Columns
from hotelseed.core.db import Busy, guarded_transaction, lock_timeout_s
from hotelseed.core.errors import DatabaseStateError, UsageError, VerificationFailed
from hotelseed.core.failpoints import failpoint
from hotelseed.guard import Consent, check_connection, check_target, confirm_deletion, write_stamp
from hotelseed.models import metadata
from hotelseed import dataset
from hotelseed.core.partition import STRIDE
from hotelseed.core.pipeline import give_back_memory, ordered_results, run_apart, spool_directory
from hotelseed.modules.identity.generate import StaffMember, generate_staff
from hotelseed.modules.properties.catalogue import (check_owner, check_room_counts, ensure_catalogue, next_id,
                                                    read_world)
from hotelseed.plan import Options, Plan, make_plan
from hotelseed.profile import load_profile
from hotelseed.schema_admin import require_current, require_writable
from hotelseed.verify import Report, run_checks

Progress = Callable[[str, int, float], None]


def default_workers() -> int:
    """Generator processes beside the loader: HOTELSEED_WORKERS, else one (generation overlaps the load)."""
    try:
        return max(0, int(os.environ.get("HOTELSEED_WORKERS", "1")))
    except ValueError:
        raise UsageError("HOTELSEED_WORKERS must be a whole number") from None


@dataclass
class SeedResult:
    plan: Plan
    deleted: dict[str, int]
    catalogue_added: dict[str, int]
    written: dict[str, int]
    timings: dict[str, float]
    report: Report
    dry_run: bool = False
    retired: list[str] = field(default_factory=list)  # properties this run marked INACTIVE (slugs)
    outputs: object = None  # what master_complete's before_commit returned (api.after_seed: a Seeded)

    @property
    def rows_written(self) -> int:
        return sum(self.written.values())


def _existing_staff(conn: Connection) -> tuple[list[StaffMember], bool]:
    rows = conn.execute(sa.text(
        "SELECT u.id, r.role_key, r.property_id, u.email, u.name FROM users u JOIN user_roles r ON r.user_id = u.id "
        "WHERE r.role_key IN ('STAFF_FRONTDESK','STAFF_OPS','MANAGER','ADMIN','SUPERADMIN') ORDER BY u.email")).all()
    import uuid

    staff = [StaffMember(r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])), r[1], r[2], r[3], r[4])
             for r in rows if r[1] != "SUPERADMIN"]
    return staff, any(r[1] == "SUPERADMIN" for r in rows)


def run_lock(conn: Connection, name: str = "master-seed") -> None:
    """One seed at a time per database, and fail fast instead of hanging behind someone else's lock.

    PostgreSQL: a transaction-scoped advisory lock (released by COMMIT/ROLLBACK or the session dying) and
    lock/statement timeouts. SQLite: BEGIN IMMEDIATE already holds the write lock (see core/db.py). Either way a
    database that cannot be written is refused here, before the run writes anything (require_writable).
    """
    require_writable(conn)
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout_s()}s'")
    conn.exec_driver_sql("SET LOCAL statement_timeout = '30min'")
    if not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock(hashtext('hotelseed:{name}'))").scalar():
        raise Busy("another hotelseed run is in progress on this database; try again when it has finished")


class TableSink:
    """Where partitions' tables go: the database (loader), or nowhere but a row count (dry run)."""

    def __init__(self, conn: Connection | None, progress: Progress, fresh: frozenset[str] = frozenset()):
        self.conn = conn
        self.say = progress
        self.fresh = fresh  # tables truncated in this transaction: COPY writes their rows frozen
        self.written: dict[str, int] = {}
        self.chunks: dict[str, int] = {}  # chunks of each table sent so far (failpoints between chunks)
        self.dialect = conn.dialect.name if conn is not None else None

    def encode(self, tables: dict[str, Columns], spool: str | None = None) -> dict:
        """What a worker hands back: binary COPY chunks for PostgreSQL, the columns themselves otherwise. With
        `spool` (a file path), the encoded chunks go to that file and only where they are comes back, so the loader
        reads one chunk at a time: binary COPY for PostgreSQL; for SQLite each chunk's values as sqlite3 binds them,
        pickled, so that the worker, not the loader, pays for encoding them (the loader's CPU is SQLite's limit;
        three medium partitions: the loader's unpickling and encoding 1.9 s → unpickling 0.5 s, spool 98 → 126 MB).
        A dry run (no database) spools each table's pickled columns."""
        out = {}
        writer = loader.Spool(spool) if spool else None
        try:
            for name in list(tables):
                cols = tables.pop(name)  # let each table's columns go once encoded
                if not len(cols):
                    continue
                table = metadata.tables[name]
                if self.dialect == "postgresql":
                    chunks = loader.encode_pg(table, cols)
                    if writer is not None:
                        chunks = [writer.add(c) for c in chunks]
                    out[name] = (list(cols.data), chunks, len(cols))
                elif self.dialect == "sqlite" and writer is not None:
                    out[name] = (list(cols.data), [writer.add(pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL))
                                                   for c in loader.encode_sqlite(table, cols)], len(cols))
                elif writer is not None:
                    out[name] = writer.add(pickle.dumps(cols, protocol=pickle.HIGHEST_PROTOCOL))
                else:
                    out[name] = cols
        finally:
            if writer is not None:
                writer.close()
        return out

    def write(self, payload: dict, only: set[str] | None = None, label: str = "") -> int:
        """Load a partition's tables, parents before children, in the open transaction."""
        t0 = time.perf_counter()
        rows = 0
        for table in metadata.sorted_tables:
            item = payload.get(table.name)
            if item is None or (only is not None and table.name not in only):
                continue
            if table.name not in self.written:
                failpoint(f"load:{table.name}")  # the table's first rows are about to go in
            before = self.chunks.get(table.name, 0)
            if isinstance(item, loader.Spooled):  # a table's columns a worker spooled
                item = pickle.loads(item.read())
            if isinstance(item, tuple):  # encoded chunks
                names, chunks, n = item
                if self.dialect == "postgresql":
                    loader.write_pg(self.conn, table, names, chunks, before, freeze=table.name in self.fresh)
                else:
                    loader.write_sqlite(self.conn, table, names, chunks, before)
                self.chunks[table.name] = before + len(chunks)
            else:
                n = len(item) if self.conn is None else loader.load(self.conn, table, item, chunks_before=before)
                self.chunks[table.name] = before + loader.chunk_count(n)
            self.written[table.name] = self.written.get(table.name, 0) + n
            rows += n
        if label:
            self.say(label, rows, time.perf_counter() - t0)
        return rows


@dataclass
class OpenRun:
    run_id: int
    world: object
    deleting: dict[str, int]
    deleted: dict[str, int]
    added: dict[str, int]
    truncated: frozenset[str]  # tables emptied by TRUNCATE in this transaction (PostgreSQL)
    retired: list[str]  # properties marked INACTIVE (--retire-unplanned-properties)


def open_run(conn: Connection, plan: Plan, consent: Consent, url: str, say: Progress, dry_run: bool = False,
             foreign: str = REFUSE, retire_unplanned: bool = False) -> OpenRun:
    """The start every writing run shares: lock, schema, guard, stamp, the run's row, catalogue, cleanup.
    `foreign`: what to do about tables hotelseed does not own that refer to what it deletes (cleanup.foreign_rows);
    `retire_unplanned`: mark the active properties this run does not plan INACTIVE (unplanned_properties)."""
    options, profile = plan.options, plan.profile
    run_lock(conn)
    check_connection(conn, consent)  # before require_current, which may create the schema
    require_current(conn)
    check_owner(conn, profile)
    check_room_counts(conn, profile, options.rooms_per_property)
    refuse_during_shards(conn)
    retiring = unplanned_properties(conn, profile, options.keep_staff, retire_unplanned, say)
    deleting = count_plan(conn, keep_staff=options.keep_staff, foreign=foreign)
    if not dry_run:
        confirm_deletion(url, deleting, consent)
    say("ready", sum(deleting.values()), 0.0)  # the guard has passed; from here on we write
    write_stamp(conn)
    run_id = next_id(conn, "seed_runs")
    conn.execute(metadata.tables["seed_runs"].insert().values(
        id=run_id, seed=plan.seed, as_of=plan.as_of_datetime, profile=profile.name, options=options.as_json(),
        tool_version=__version__))
    retire_properties(conn, retiring)
    t0 = time.perf_counter()
    added = ensure_catalogue(conn, profile)
    failpoint("after-catalogue")
    world = read_world(conn, profile)
    t1 = time.perf_counter()
    say("catalogue", sum(added.values()), t1 - t0)
    cleaned = cleanup(conn, keep_staff=options.keep_staff, foreign=foreign)
    say("cleanup", sum(cleaned.deleted.values()), time.perf_counter() - t1)
    failpoint("after-cleanup")
    return OpenRun(run_id, world, deleting, cleaned.deleted, added, cleaned.truncated, retiring)


RETIRE_OPTION = "--retire-unplanned-properties"


def _unplanned(slugs: list[str]) -> str:
    n = len(slugs)
    return f"{n} active propert{'y' if n == 1 else 'ies'} this run does not seed ({', '.join(slugs[:3])}{', ...' if n > 3 else ''})"


def unplanned_properties(conn: Connection, profile, keep_staff: bool, retire: bool, say: Progress) -> list[str]:
    """The active properties this run does not plan (added by an earlier run with more --properties, or dropped
    from the profile) that it is to retire: all of them with `retire`, else none.

    Every active property must have a manager and desk staff (platform.md §4.1 inv. 3), and a run staffs only the
    properties it plans. Without --keep-staff their seeded staff would go: the run would do all its work and then
    fail verification, so it is refused before writing. With --keep-staff those that keep a manager stay active
    with staff and no bookings: allowed (they are valid), with a warning naming the way to retire them."""
    planned = {p.slug for p in profile.properties}
    active = conn.execute(sa.text("SELECT slug FROM properties WHERE status = 'ACTIVE' ORDER BY id")).scalars()
    others = [slug for slug in active if slug not in planned]
    if retire or not others:
        return others
    unstaffed = others
    if keep_staff:  # their staff stays: only those without a manager now are a problem
        managed = set(conn.execute(sa.text("SELECT p.slug FROM properties p JOIN user_roles r ON r.property_id = p.id "
                                           "WHERE r.role_key = 'MANAGER'")).scalars())
        unstaffed = [slug for slug in others if slug not in managed]
    if unstaffed:
        raise DatabaseStateError(
            f"the database has {_unplanned(unstaffed)}, and this run plans {len(planned)}: they would be left "
            f"without staff. Seed with --properties {len(planned) + len(others)} (or the --scale that added them), "
            f"or retire them with {RETIRE_OPTION}")
    say(f"warning: {_unplanned(others)} keep their staff and get no bookings; {RETIRE_OPTION} marks them inactive",
        0, 0.0)
    return []


def retire_properties(conn: Connection, slugs: list[str]) -> None:
    """Mark properties INACTIVE (entity_status, platform.md §3.1): their rooms, plans and staff stay; an inactive
    property needs no staff (§4.1 inv. 3), and a run that does not plan it gives it no bookings."""
    if slugs:
        conn.execute(sa.text("UPDATE properties SET status = 'INACTIVE' WHERE slug IN :slugs").bindparams(
            sa.bindparam("slugs", expanding=True)), {"slugs": slugs})


def refuse_during_shards(conn: Connection) -> None:
    """A sharded load in progress has its indexes and constraints set aside: nothing else may write."""
    if "hotelseed_shards" not in sa.inspect(conn).get_table_names():
        return
    run = conn.execute(sa.text("SELECT run_id, shard_count FROM hotelseed_shards WHERE shard_index = -1 AND "
                               "finished_at IS NULL")).first()
    if run is not None:
        raise DatabaseStateError(f"a sharded load ({run[1]} shards, run {run[0]}) is in progress on this database: "
                                 "finish it (hotelseed shard finish) or abandon it (hotelseed shard abandon)")


def staff_for(conn: Connection, plan: Plan, world, run_id: int):
    """Staff users to add (to each property's quota), the whole staff directory, and where members' roles start:
    staff and members' roles are the group's rows (partition 0), numbered after those already there."""
    existing, has_superadmin = _existing_staff(conn)
    role_id = next_id(conn, "user_roles", below=STRIDE)
    staff_users, staff = generate_staff(plan, world, existing, has_superadmin, run_id, role_id)
    return staff_users, staff, role_id + len(staff_users.roles)


def group_payloads(sink: TableSink, group: dict[str, Columns], fk_live: bool, spool_dir: str | None = None):
    """The group's partition encoded for the sink as two payloads: what goes first, and (with foreign keys checked
    as rows arrive: live constraints) the tables that refer to bookings, which go last."""
    late = dataset.late_group_tables() if fk_live else set()
    early = {k: group.pop(k) for k in list(group) if k not in late}
    first = sink.encode(early, spool_dir and os.path.join(spool_dir, "group-first.spool"))
    last = sink.encode(group, spool_dir and os.path.join(spool_dir, "group-last.spool"))
    return first, last


def prepare_group(sink: TableSink, plan: Plan, world, staff, staff_users, run_id: int, member_role_id: int,
                  fk_live: bool, spool_dir: str | None):
    """The shared context (members, their trips, the loyalty replay) and the group's partition, encoded. With a
    spool directory this runs in a child process that spools the group's payloads and sends back only the context
    the properties need: the loader's heap then never holds the replay's tables, and the workers forked from it
    start small (peak memory no longer grows with the number of members)."""
    def job():
        ctx = dataset.prepare(plan, world, staff, run_id)
        group = dataset.group_partition(ctx, staff_users, member_role_id)
        rows = sum(len(c) for c in group.values())
        first, last = group_payloads(sink, group, fk_live, spool_dir)
        ctx.release()
        return ctx, first, last, rows

    return job() if spool_dir is None else run_apart(job)


def load_partitions(conn: Connection | None, sink: TableSink, ctx, group: tuple[dict, dict] | None,
                    properties: list[int], workers: int, spool_dir: str | None = None) -> None:
    """Load the group's partition (when given: its two payloads from group_payloads) and these properties'
    partitions. With foreign keys checked as rows arrive (SQLite, or live constraints), the group's
    tables that refer to bookings go last; otherwise the whole group goes first. Either way what has been written
    is let go before the workers fork, so they do not inherit it: memory holds the shared context and a few
    partitions. Workers spool their results to a file per partition in `spool_dir` (pipeline.spool_directory; see
    loader.Spooled): the loader then holds one chunk or table, not a partition twice over (object and pickle), nor
    does a worker hold a pickled copy of its result. Since a spooled result is only offsets, workers run up to two
    partitions ahead: a worker is not left idle while the loader writes a larger partition."""
    sink.say("begin load", len(properties) + (2 if group else 0), 0.0)
    first, last = group or (None, None)
    if first is not None:
        sink.write(first, label="group: staff, members")
        first = None
    ctx.release()
    gc.collect()

    def spool(i: int) -> str | None:
        return os.path.join(spool_dir, f"partition-{i}.spool") if spool_dir else None

    # Two ahead only when results are spooled (offsets); unspooled results would wait here whole. Closed on the way
    # out of an error or a signal, so the workers are gone before the spool directory is removed.
    results = ordered_results(lambda i: sink.encode(dataset.property_partition(ctx, i), spool(i)),
                              properties, workers, ahead=2 * workers if spool_dir else workers)
    with contextlib.closing(results):
        for pi, payload in results:
            sink.write(payload, label=f"property {ctx.world.properties[pi].slug}")
            del payload  # let go before the next partition arrives
            if spool_dir:
                os.unlink(spool(pi))
            give_back_memory()
    if last is not None:
        sink.write(last, label="group: loyalty, mail")


def master_complete(engine: Engine, options: Options, progress: Progress | None = None,
                    consent: Consent = Consent(), dry_run: bool = False, verify: bool = True,
                    workers: int | None = None, foreign: str = REFUSE, retire_unplanned: bool = False,
                    before_commit: Callable[[Connection, SeedResult], object] | None = None) -> SeedResult:
    """Wipe the module data and recreate it, all in one transaction, then verify before COMMIT.

    Every run passes the guard first (guard.py). The data is made and loaded partition by partition
    (dataset.py): the group's shared part first, then each property, generated by `workers` processes beside
    the loader (0 = in this process), so memory holds a few partitions, never the dataset. With dry_run the
    whole dataset is generated and counted, and nothing is written. If verification finds a violation the
    transaction is rolled back and VerificationFailed carries the report: a dataset that breaks an invariant
    is never left behind. `foreign` and `retire_unplanned`: see open_run.

    `before_commit(conn, result)` runs after verification, on the open transaction, and what it returns becomes
    `result.outputs`: the CLI and `seed()` render the summary, the scenario catalogue and the report there and
    stage their files (outputs.Outputs), so a failure to render or write them rolls everything back. The files
    are renamed onto their targets by the caller, after this returns: if that fails, the data is committed.
    """
    url = engine.url.render_as_string(hide_password=False)
    check_target(url, consent)
    plan = make_plan(options, load_profile(options.profile))
    workers = default_workers() if workers is None else workers
    timings: dict[str, float] = {}
    say = progress or (lambda step, rows, secs: None)

    # Data first, then secondary indexes, exclusion constraints and foreign keys, as pg_restore does.
    # HOTELSEED_LIVE_CONSTRAINTS=1 loads with everything live (bench/default_run.py compares the two). SQLite
    # cannot drop a foreign key: the whole transaction runs without enforcing them (cleanup, load), and
    # core.bulk.rebuild proves them all before verification.
    live = dry_run or os.environ.get("HOTELSEED_LIVE_CONSTRAINTS") == "1"
    with guarded_transaction(engine, sqlite_foreign_keys=live) as conn, contextlib.ExitStack() as stack:
        t0 = time.perf_counter()
        run = open_run(conn, plan, consent, url, say, dry_run, foreign, retire_unplanned)
        timings["catalogue and cleanup"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # Staff passwords are argon2id hashes (~17 ms each, two at once here): 10,000 properties' staff take minutes,
        # so the step shows that it runs (a spinner and its time on a terminal) and then what it made.
        say("begin staff users (argon2id passwords)", 0, 0.0)
        staff_users, staff, member_role_id = staff_for(conn, plan, run.world, run.run_id)
        say("staff users (argon2id passwords)", len(staff_users.users), time.perf_counter() - t0)
        sink = TableSink(None if dry_run else conn, say, run.truncated)
        spool_dir = stack.enter_context(spool_directory(workers))
        ctx, *group, rows = prepare_group(sink, plan, run.world, staff, staff_users, run.run_id, member_role_id,
                                          live, spool_dir)
        timings["prepare"] = time.perf_counter() - t0
        say("prepare (members, loyalty)", rows, timings["prepare"])
        failpoint("after-generate")

        t0 = time.perf_counter()
        with (contextlib.nullcontext() if live else deferred_constraints(conn, dataset.written_tables())):
            load_partitions(conn, sink, ctx, tuple(group), list(range(len(run.world.properties))), workers,
                            spool_dir=spool_dir)
            timings["load"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            if not live:
                say("begin indexes and constraints", 0, 0.0)
        if dry_run:
            conn.rollback()
            return SeedResult(plan, run.deleting, run.added, sink.written, timings, Report(), True, run.retired)
        analyze(conn, dataset.written_tables())
        timings["constraints"] = time.perf_counter() - t1
        say("indexes and constraints", 0, timings["constraints"])
        failpoint("after-load")
        report = verify_run(conn, plan, say, timings) if verify else Report()
        result = SeedResult(plan, run.deleted, run.added, sink.written, timings, report, retired=run.retired)
        if before_commit is not None:
            result.outputs = before_commit(conn, result)
        failpoint("before-commit")
        signals.commit(conn)  # COMMIT, on its own, only after everything above succeeded
    failpoint("after-commit")
    return result


def verify_run(conn: Connection, plan: Plan, say: Progress, timings: dict[str, float]) -> Report:
    """Every check; a violation raises VerificationFailed, which rolls the transaction back."""
    say("begin verify", 0, 0.0)
    t0 = time.perf_counter()
    report = run_checks(conn, plan)
    timings["verify"] = time.perf_counter() - t0
    say("verify", report.rows_checked, timings["verify"])
    if not report.ok:
        raise VerificationFailed(report.failure_line(), report)
    return report
