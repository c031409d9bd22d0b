"""Safety (issue 3): the guard refuses what it must, before writing anything; a run killed at any moment
leaves the database as it was or fully seeded; two runs never interleave."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SMALL, schema_objects
from hotelseed.core.db import make_engine
from hotelseed.digest import dataset_digest
from hotelseed.guard import Consent, Refused
from hotelseed.plan import Options
from hotelseed.master import master_complete
from hotelseed.verify import run_checks
from test_cli import SMALL_ARGS, hs

_bases: dict[str, tuple[str, str]] = {}


@pytest.fixture
def seeded(databases, backend):
    """A small CLI-seeded database per backend and its digest; refusals must leave it exactly so."""
    return _seeded(databases, backend)


def _seeded(databases, backend):
    if backend not in _bases:
        url = databases.new(backend)
        r = hs("master-complete", "--database-url", url, "--quiet", *SMALL_ARGS)
        assert r.returncode == 0, r.stderr
        with make_engine(url).connect() as conn:
            _bases[backend] = (url, dataset_digest(conn))
    return _bases[backend]


def _unchanged(url: str, digest: str) -> bool:
    with make_engine(url).connect() as conn:
        return dataset_digest(conn) == digest


def _one_line(r: subprocess.CompletedProcess) -> str:
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_non_interactive_run_without_yes_refuses(seeded):
    url, digest = seeded
    r = hs("master-complete", "--database-url", url, *SMALL_ARGS)  # stdin is not a terminal here
    assert r.returncode == 3 and "--yes" in _one_line(r)
    r = hs("cleanup", "--database-url", url)
    assert r.returncode == 3 and "--yes" in _one_line(r)
    assert _unchanged(url, digest)


def test_dry_run_plans_and_changes_nothing(seeded):
    url, digest = seeded
    r = hs("master-complete", "--database-url", url, "--dry-run", "--json", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    import json

    plan = json.loads(r.stdout)
    assert plan["dry_run"] and plan["would_delete"]["bookings"] > 0 and plan["would_create"]["bookings"] > 0
    r = hs("cleanup", "--database-url", url, "--dry-run", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["bookings"] > 0
    assert _unchanged(url, digest)


@pytest.mark.parametrize("stamp,env,word", [("production", None, "protected"), ("staging", None, "declares"),
                                            ("development", "production", "declares")])
def test_environment_stamp(seeded, stamp, env, word):
    url, digest = seeded
    engine = make_engine(url)
    with engine.begin() as conn:
        original = conn.execute(sa.text("SELECT environment FROM hotelseed_environment")).scalar()
        conn.execute(sa.text("UPDATE hotelseed_environment SET environment = :e"), {"e": stamp})
    try:
        extra = {"HOTELSEED_ENV": env} if env else {}
        r = hs("master-complete", "--database-url", url, "--yes", *SMALL_ARGS, env=extra)
        assert r.returncode == 3 and word in _one_line(r) and "--override-environment-check" in r.stderr
        r = hs("cleanup", "--database-url", url, "--yes", env=extra)
        assert r.returncode == 3
        assert _unchanged(url, digest)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE hotelseed_environment SET environment = :e"), {"e": original})


def test_override_is_separate_from_yes(empty_db):
    seed = master_complete(make_engine(empty_db), Options(**SMALL), consent=Consent(assume_yes=True))
    assert seed.report.ok
    with make_engine(empty_db).begin() as conn:
        conn.execute(sa.text("UPDATE hotelseed_environment SET environment = 'production'"))
    with pytest.raises(Refused):
        master_complete(make_engine(empty_db), Options(**SMALL), consent=Consent(assume_yes=True))
    again = master_complete(make_engine(empty_db), Options(**SMALL),
                            consent=Consent(assume_yes=True, override_environment=True))
    assert again.report.ok


def test_remote_host_needs_allow_remote_and_is_never_contacted():
    for url in ("postgresql://seed@db.example.com/hotel", "postgresql://seed:secret@198.51.100.7:5432/hotel"):
        r = hs("master-complete", "--database-url", url, "--yes", *SMALL_ARGS)
        line = _one_line(r)
        assert r.returncode == 3 and "--allow-remote" in line and "secret" not in r.stderr


def test_library_api_passes_the_same_guard(seeded):
    url, digest = seeded
    with pytest.raises(Refused, match="--yes"):
        master_complete(make_engine(url), Options(**SMALL))  # no consent: a script that did not confirm
    with pytest.raises(Refused, match="not confirmed"):
        master_complete(make_engine(url), Options(**SMALL), consent=Consent(confirm=lambda target, rows: False))
    assert _unchanged(url, digest)


def test_two_runs_at_once_never_interleave(empty_db):
    args = [sys.executable, "-m", "hotelseed", "master-complete", "--database-url", empty_db, "--yes", "--quiet", *SMALL_ARGS]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 4]), results
    for code, stderr in results:
        if code == 4:
            assert "another" in stderr and len(stderr.strip().splitlines()) == 1
    with make_engine(empty_db).connect() as conn:
        assert run_checks(conn).ok
        assert conn.execute(sa.text("SELECT count(*) FROM seed_runs")).scalar() == codes.count(0)


# Killed with SIGKILL at each of these points, a run leaves the database exactly as before it started
# (nothing is committed before the single COMMIT), or, killed after COMMIT, fully seeded.
KILL_POINTS = ["after-catalogue", "after-cleanup", "after-generate", "load:users", "load:loyalty_accounts",
               "load:user_roles", "load:inventories", "load:bookings", "mid-load:booking_audit_logs",
               "load:booking_guests", "load:stays", "load:payments", "mid-load:inventory_locks", "load:threads",
               "load:points_ledger", "load:emails", "load:message_logs", "load:email_events", "load:suppressions",
               "after-load", "before-commit", "mid-copy:bookings", "mid-copy:stays", "after-commit"]


# COPY is PostgreSQL's loader, so mid-copy points exist only there (SQLite has the mid-load points).
KILL_CASES = [(b, p) for b in ("sqlite", "postgresql") for p in KILL_POINTS if b == "postgresql" or not p.startswith("mid-copy")]


_schemas: dict[str, list] = {}


def _schema(databases, backend_name: str) -> list:
    """The schema objects of the seeded base database, read once before any kill."""
    if backend_name not in _schemas:
        url, _ = _seeded(databases, backend_name)
        with make_engine(url).connect() as conn:
            _schemas[backend_name] = schema_objects(conn)
    return _schemas[backend_name]


@pytest.mark.parametrize("backend_name,point", KILL_CASES, ids=[f"{b}-{p}" for b, p in KILL_CASES])
def test_sigkill_at_any_point_is_all_or_nothing(databases, backend_name, point):
    url, digest = _seeded(databases, backend_name)
    _schema(databases, backend_name)
    r = hs("master-complete", "--database-url", url, "--yes", "--quiet", "--seed", "7", *SMALL_ARGS,
           env={"HOTELSEED_FAILPOINT": point, "HOTELSEED_CHUNK_ROWS": "5000"})
    assert r.returncode == -9, (r.returncode, r.stderr)  # it really died there
    with make_engine(url).connect() as conn:
        now = dataset_digest(conn)
        report = run_checks(conn)
        # Indexes and constraints dropped for the load are back: the DDL was part of the transaction.
        assert schema_objects(conn) == _schema(databases, backend_name)
    assert report.ok
    if point == "after-commit":
        assert now != digest  # fully seeded with the new seed
        restore = hs("master-complete", "--database-url", url, "--yes", "--quiet", *SMALL_ARGS)
        assert restore.returncode == 0 and _unchanged(url, digest)
    else:
        assert now == digest


FLAGS = ["--members", "--as-of", "--history-months", "--future-months", "--seed", "--profile", "--database-url",
         "--bogus", "--keep-staff", "--json", "--quiet", "--allow-remote", "-q", "--help-me"]
VALUES = ["-1", "0", "abc", "120", "2026-13-45", "2026-11-25", "99999999999999999999", "", "sqlite:///", "x.toml",
          "postgresql://u@db.example.com/x", "mysql://x", "--", "1e3", "\u00e9"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(["master-complete", "cleanup", "verify", "bogus"]),
       args=st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES)), max_size=6))
def test_cli_fuzz_never_traces_and_never_writes_unconfirmed(databases, command, args):
    """Argument lists without --yes: whatever they are, no traceback, a known exit code, no change."""
    url, digest = _seeded(databases, "sqlite")
    argv = [command, *args] if "--database-url" in args else [command, *args, "--database-url", url]
    code, err = _run_in_process(argv)
    assert "Traceback" not in err
    assert code in (0, 1, 2, 3), (argv, code, err)
    if code != 0:
        assert len([line for line in err.splitlines() if line.strip()]) == 1, (argv, err)
    assert _unchanged(url, digest)


def _run_in_process(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    from hotelseed import cli

    stderr, stdout = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["hotelseed", *argv]
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return code, stderr.getvalue()


def test_blocked_run_fails_fast_with_a_clear_message(seeded, backend):
    """Someone else holds a lock: the run gives up after HOTELSEED_LOCK_TIMEOUT, exit 4, database unchanged."""
    url, digest = seeded
    blocker = make_engine(url).connect()
    try:
        blocker.begin()
        if backend == "postgresql":
            blocker.exec_driver_sql("LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE")
        else:
            blocker.exec_driver_sql("UPDATE hotelseed_environment SET environment = environment")  # holds the write lock
        r = hs("master-complete", "--database-url", url, "--yes", *SMALL_ARGS, env={"HOTELSEED_LOCK_TIMEOUT": "2"})
        assert r.returncode == 4 and ("lock" in _one_line(r) or "another" in _one_line(r)), r.stderr
    finally:
        blocker.rollback()
        blocker.close()
    assert _unchanged(url, digest)


def test_properties_a_run_would_leave_unstaffed_are_refused_before_any_work(seeded, backend):
    """The database holds the profile's 3 properties; a run planning 2 would wipe the third's staff and then fail
    verification (every active property is staffed). It is refused at once, in one line naming the way out; with
    --keep-staff the third property keeps its staff, so that run is allowed (dry run here)."""
    url, digest = seeded
    r = hs("master-complete", "--database-url", url, "--yes", "--properties", "2", *SMALL_ARGS)
    line = _one_line(r)
    assert r.returncode == 2 and "1 active property this run does not seed" in line and "--properties 3" in line, line
    assert _unchanged(url, digest)
    r = hs("master-complete", "--database-url", url, "--dry-run", "--keep-staff", "--properties", "2", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    assert _unchanged(url, digest)


def test_sqlite_table_of_ones_own_relying_on_cascade_is_refused_not_orphaned(databases):
    """SQLite runs without enforcing foreign keys and proves them after the load. A table that is not the tool's,
    whose row relied on ON DELETE CASCADE from a guest user the cleanup deletes, would be left pointing at nothing:
    the run refuses in one line naming the table and the way out, and changes nothing, whether foreign keys are
    enforced throughout (HOTELSEED_LIVE_CONSTRAINTS=1) or not (one rule from the schema, as on PostgreSQL:
    tests/test_foreign_tables.py); with --foreign-references cascade the row goes and the seed succeeds."""
    url = databases.new("sqlite")
    assert hs("master-complete", "--database-url", url, "--quiet", *SMALL_ARGS).returncode == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE app_sessions (id INTEGER PRIMARY KEY, "
                             "user_id CHAR(32) REFERENCES users (id) ON DELETE CASCADE)")
        guest = conn.exec_driver_sql("SELECT u.* FROM users u JOIN user_roles r ON r.user_id = u.id "
                                     "WHERE r.role_key = 'GUEST' LIMIT 1").mappings().one()
        extra = {**guest, "id": "f" * 32, "email": "not-seeded@example.test", "phone": None}
        conn.execute(sa.text(f"INSERT INTO users ({', '.join(extra)}) VALUES ({', '.join(':' + k for k in extra)})"), extra)
        conn.exec_driver_sql(f"INSERT INTO app_sessions (user_id) VALUES ('{'f' * 32}')")
    with engine.connect() as conn:
        digest = dataset_digest(conn)
    for live in ("0", "1"):
        r = hs("master-complete", "--database-url", url, "--yes", "--quiet", *SMALL_ARGS,
               env={"HOTELSEED_LIVE_CONSTRAINTS": live})
        line = _one_line(r)
        assert r.returncode == 2 and "app_sessions" in line and "--foreign-references cascade" in line, line
        assert _unchanged(url, digest)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM app_sessions").scalar() == 1
    r = hs("master-complete", "--database-url", url, "--yes", "--quiet", "--foreign-references", "cascade", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM app_sessions").scalar() == 0


def test_interactive_run_shows_the_target_and_asks(seeded, backend):
    """In a terminal (a pseudo-terminal here, via script(1)) the run lists what it would delete and asks;
    answering no changes nothing."""
    import shutil

    assert shutil.which("script"), "util-linux script(1) is needed to give the CLI a terminal"
    url, digest = seeded
    cmd = " ".join([sys.executable, "-m", "hotelseed", "master-complete", "--database-url", url, *SMALL_ARGS])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], input="n\n", capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "NO_COLOR": "1"})
    assert r.returncode == 3, (r.returncode, r.stdout)
    assert "will delete from" in r.stdout and "bookings" in r.stdout and "not confirmed" in r.stdout
    assert _unchanged(url, digest)
