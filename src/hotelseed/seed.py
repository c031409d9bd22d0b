"""The master seed pipeline: plan → generate → load (one transaction) → verify → report.

`master_complete` is the one entry point the CLI, the library API and the tests share.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotelseed import __version__
from hotelseed.cleanup import cleanup, count_plan
from hotelseed.core import loader
from hotelseed.core.bulk import deferred_constraints
from hotelseed.core.columns import Columns
from hotelseed.core.db import Busy, guarded_transaction, lock_timeout_s
from hotelseed.core.errors import VerificationFailed
from hotelseed.core.failpoints import failpoint
from hotelseed.guard import Consent, check_environment, check_target, confirm_deletion, write_stamp
from hotelseed.models import metadata
from hotelseed.modules.bookings.generate import generate_bookings
from hotelseed.modules.comms.generate import generate_comms
from hotelseed.modules.identity.generate import (StaffMember, generate_staff, guest_users, member_people,
                                                 member_users)
from hotelseed.modules.loyalty.generate import generate_loyalty
from hotelseed.modules.properties.catalogue import check_owner, ensure_catalogue, next_id, read_world
from hotelseed.plan import Options, Plan, make_plan
from hotelseed.profile import load_profile
from hotelseed.schema_admin import require_current
from hotelseed.verify import Report, run_checks

Progress = Callable[[str, int, float], None]


@dataclass
class SeedResult:
    plan: Plan
    deleted: dict[str, int]
    catalogue_added: dict[str, int]
    written: dict[str, int]
    timings: dict[str, float]
    report: Report
    dry_run: bool = False

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


def run_lock(conn: Connection) -> None:
    """One seed at a time per database, and fail fast instead of hanging behind someone else's lock.

    PostgreSQL: a transaction-scoped advisory lock (released by COMMIT/ROLLBACK or the session dying) and
    lock/statement timeouts. SQLite: BEGIN IMMEDIATE already holds the write lock (see core/db.py).
    """
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout_s()}s'")
    conn.exec_driver_sql("SET LOCAL statement_timeout = '30min'")
    if not conn.exec_driver_sql("SELECT pg_try_advisory_xact_lock(hashtext('hotelseed:master-seed'))").scalar():
        raise Busy("another hotelseed run is in progress on this database; try again when it has finished")


def master_complete(engine: Engine, options: Options, progress: Progress | None = None,
                    consent: Consent = Consent(), dry_run: bool = False, verify: bool = True) -> SeedResult:
    """Wipe the module data and recreate it, all in one transaction, then verify before COMMIT.

    Every run passes the guard first (guard.py). With dry_run the whole plan is computed (what would be
    deleted and created) and rolled back. If verification finds a violation the transaction is rolled back
    and VerificationFailed carries the report: a dataset that breaks an invariant is never left behind.
    """
    url = engine.url.render_as_string(hide_password=False)
    check_target(url, consent)
    profile = load_profile(options.profile)
    plan = make_plan(options, profile)
    timings: dict[str, float] = {}
    written: dict[str, int] = {}
    say = progress or (lambda step, rows, secs: None)

    def timed(step: str, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        timings[step] = time.perf_counter() - t0
        return out

    with guarded_transaction(engine) as conn:
        run_lock(conn)
        require_current(conn)
        check_environment(conn, consent)
        check_owner(conn, profile)
        deleting = count_plan(conn, keep_staff=options.keep_staff)
        if not dry_run:
            confirm_deletion(url, deleting, consent)
        say("ready", sum(deleting.values()), 0.0)  # the guard has passed; from here on we write
        write_stamp(conn)
        run_id = next_id(conn, "seed_runs")
        conn.execute(metadata.tables["seed_runs"].insert().values(
            id=run_id, seed=plan.seed, as_of=plan.as_of_datetime, profile=profile.name, options=options.as_json(),
            tool_version=__version__))
        added = timed("catalogue", ensure_catalogue, conn, profile)
        failpoint("after-catalogue")
        world = read_world(conn, profile)
        deleted = timed("cleanup", lambda: cleanup(conn, keep_staff=options.keep_staff).deleted)
        say("cleanup", sum(deleted.values()), timings["cleanup"])
        failpoint("after-cleanup")
        existing, has_superadmin = _existing_staff(conn)

        t0 = time.perf_counter()
        staff_users, staff = generate_staff(plan, world, existing, has_superadmin, run_id, next_id(conn, "user_roles"))
        people = member_people(plan)
        role_id = next_id(conn, "user_roles") + len(staff_users.roles)
        members = member_users(plan, world, people, run_id, role_id)
        account_ids = np.arange(1, len(people.index) + 1, dtype=np.int64)
        bookings = generate_bookings(plan, world, people, staff, account_ids, run_id)
        role_id += len(members.roles)
        g = bookings.guest_user
        guests = guest_users(plan, world, g.get("user_id", []), g.get("email", []), g.get("phone", []),
                             g.get("name", []), np.asarray(g.get("created_at", []), dtype=np.int64), run_id, role_id)
        loyalty = generate_loyalty(plan, world, people, bookings.facts, run_id)
        bookings.add_payments(loyalty.award_night)
        comms = generate_comms(plan, world, people, staff, bookings.facts, loyalty, run_id)
        timings["generate"] = time.perf_counter() - t0
        say("generate", 0, timings["generate"])
        failpoint("after-generate")

        tables: dict[str, list[Columns]] = {}
        for part in (staff_users.users, members.users, guests.users, staff_users.roles, members.roles, guests.roles):
            tables.setdefault(part.table, []).append(part)
        for bundle in (bookings.tables, loyalty.tables, comms.tables):
            for name, cols in bundle.items():
                tables.setdefault(name, []).append(cols)
        if dry_run:
            creating = {t.name: sum(len(c) for c in tables.get(t.name, [])) for t in metadata.sorted_tables
                        if tables.get(t.name)}
            conn.rollback()
            return SeedResult(plan, deleting, added, creating, timings, Report(), dry_run=True)
        t0 = time.perf_counter()
        loading = [t.name for t in metadata.sorted_tables if any(len(c) for c in tables.get(t.name, []))]
        # Data first, then secondary indexes, exclusion constraints and foreign keys, as pg_restore does.
        # HOTELSEED_LIVE_CONSTRAINTS=1 loads with everything live (bench/default_run.py compares the two).
        live = os.environ.get("HOTELSEED_LIVE_CONSTRAINTS") == "1"
        with (contextlib.nullcontext() if live else deferred_constraints(conn, loading)):
            for table in metadata.sorted_tables:  # parents before children, from the foreign keys
                for cols in tables.get(table.name, []):
                    failpoint(f"load:{table.name}")
                    t1 = time.perf_counter()
                    n = loader.load(conn, table, cols)
                    written[table.name] = written.get(table.name, 0) + n
                    say(f"load {table.name}", n, time.perf_counter() - t1)
            timings["load"] = time.perf_counter() - t0
            t1 = time.perf_counter()
        timings["constraints"] = time.perf_counter() - t1
        say("indexes and constraints", 0, timings["constraints"])
        failpoint("after-load")
        report = timed("verify", run_checks, conn, plan) if verify else Report()
        say("verify", report.rows_checked, timings["verify"] if verify else 0.0)
        if verify and not report.ok:
            raise VerificationFailed(report.failure_line(), report)  # rolls the transaction back
        failpoint("before-commit")
        conn.commit()  # COMMIT, on its own, only after everything above succeeded
    failpoint("after-commit")
    return SeedResult(plan, deleted, added, written, timings, report)
