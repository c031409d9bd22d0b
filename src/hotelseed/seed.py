"""The master seed pipeline: plan → generate → load (one transaction) → verify → report.

`master_complete` is the one entry point the CLI, the library API and the tests share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotelseed import __version__
from hotelseed.cleanup import cleanup
from hotelseed.core import loader
from hotelseed.core.columns import Columns
from hotelseed.core.errors import VerificationFailed
from hotelseed.models import metadata
from hotelseed.modules.bookings.generate import generate_bookings
from hotelseed.modules.comms.generate import generate_comms
from hotelseed.modules.identity.generate import (StaffMember, generate_staff, guest_users, member_people,
                                                 member_users)
from hotelseed.modules.loyalty.generate import generate_loyalty
from hotelseed.modules.properties.catalogue import ensure_catalogue, read_world
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
    summary: dict = field(default_factory=dict)

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


def _next_id(conn: Connection, table: str) -> int:
    return int(conn.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar()) + 1


def master_complete(engine: Engine, options: Options, progress: Progress | None = None,
                    fail_after: str | None = None, verify: bool = True) -> SeedResult:
    """Wipe the module data and recreate it, all in one transaction, then verify before COMMIT.

    If verification finds a violation the transaction is rolled back and VerificationFailed is raised with
    the report: a dataset that breaks an invariant is never left behind.
    """
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

    with engine.begin() as conn:
        require_current(conn)
        run_id = _next_id(conn, "seed_runs")
        conn.execute(metadata.tables["seed_runs"].insert().values(
            id=run_id, seed=plan.seed, as_of=plan.as_of_datetime, profile=profile.name, options=options.as_json(),
            tool_version=__version__))
        added = timed("catalogue", ensure_catalogue, conn, profile)
        world = read_world(conn, profile)
        deleted = timed("cleanup", lambda: cleanup(conn, keep_staff=options.keep_staff).deleted)
        say("cleanup", sum(deleted.values()), timings["cleanup"])
        existing, has_superadmin = _existing_staff(conn)

        t0 = time.perf_counter()
        staff_users, staff = generate_staff(plan, world, existing, has_superadmin, run_id, _next_id(conn, "user_roles"))
        people = member_people(plan)
        role_id = _next_id(conn, "user_roles") + len(staff_users.roles)
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

        tables: dict[str, list[Columns]] = {}
        for part in (staff_users.users, members.users, guests.users, staff_users.roles, members.roles, guests.roles):
            tables.setdefault(part.table, []).append(part)
        for bundle in (bookings.tables, loyalty.tables, comms.tables):
            for name, cols in bundle.items():
                tables.setdefault(name, []).append(cols)
        t0 = time.perf_counter()
        for table in metadata.sorted_tables:  # parents before children, from the foreign keys
            for cols in tables.get(table.name, []):
                if fail_after == f"load:{table.name}":
                    raise RuntimeError(f"injected failure before loading {table.name}")
                t1 = time.perf_counter()
                n = loader.load(conn, table, cols)
                written[table.name] = written.get(table.name, 0) + n
                say(f"load {table.name}", n, time.perf_counter() - t1)
        timings["load"] = time.perf_counter() - t0
        report = timed("verify", run_checks, conn, plan) if verify else Report()
        say("verify", report.rows_checked, timings["verify"] if verify else 0.0)
        if verify and not report.ok:
            raise VerificationFailed(report.failure_line(), report)  # rolls the transaction back
        if fail_after == "before-commit":
            raise RuntimeError("injected failure just before COMMIT")
    result = SeedResult(plan, deleted, added, written, timings, report)
    return result
