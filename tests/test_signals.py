"""Signals (issue 19): SIGINT exits 130 and SIGTERM 143 with one line, the database as it was (or, after COMMIT, a line
that says so), no spool directory left; workers ignore Ctrl-C and die with the main process, holding none of its
database connection. Real processes, stopped at a known point by a failpoint in stop mode (core/failpoints.py)."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from hotelseed.core.db import make_engine
from hotelseed.digest import dataset_digest
from hotelseed.verify import run_checks
from test_cli import SMALL_ARGS, hs

NOTHING_CHANGED = "nothing was changed"
COMMITTED = "COMMIT had already completed: the changes are in the database"
WORD = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
RUN_LOCK = "SELECT pg_try_advisory_lock(hashtext('hotelseed:master-seed'))"  # master.run_lock's key

_bases: dict[str, tuple[str, str]] = {}


def _seeded(databases, backend: str) -> tuple[str, str]:
    """A small seeded database per backend and its digest, which an interrupted run must leave as it was."""
    if backend not in _bases:
        url = databases.new(backend)
        assert hs("master-complete", "--database-url", url, "--quiet", *SMALL_ARGS).returncode == 0
        _bases[backend] = (url, _digest(url))
    return _bases[backend]


def _digest(url: str) -> str:
    with make_engine(url).connect() as conn:
        return dataset_digest(conn)


@pytest.fixture
def start(tmp_path):
    """start(url, failpoint, *args, **env): a run that stops itself (SIGSTOP) at `failpoint`, in a session of its own
    (as a terminal's process group). Whatever a test leaves running (stopped) is killed at its end."""
    runs: list[subprocess.Popen] = []

    def run(url: str, failpoint: str | None, *args: str, **env: str) -> subprocess.Popen:
        env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path), "HOTELSEED_FAILPOINT_MODE": "stop", **env}
        env.pop("DATABASE_URL", None)
        if failpoint:
            env["HOTELSEED_FAILPOINT"] = failpoint
        cmd = [sys.executable, "-m", "hotelseed", "master-complete", "--database-url", url, "--yes", "--quiet",
               "--seed", "7", "--scenarios", str(tmp_path / "scenarios.json"), *SMALL_ARGS, *args]
        runs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True))
        return runs[-1]

    yield run
    for r in runs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(r.pid, signal.SIGKILL)
        r.wait()


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, T for stopped, Z), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry))
        except (OSError, IndexError):
            continue
    return kids


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


def _stopped_worker(run: subprocess.Popen) -> int:
    return _wait_for(lambda: next((k for k in _children(run.pid) if _state(k) == "T"), None), 300,
                     "a worker stopped at its failpoint")


def _finish(run: subprocess.Popen, tmp_path) -> str:
    """The run's stderr, once it has exited; no spool directory may be left behind."""
    _, err = run.communicate(timeout=120)
    assert not list(tmp_path.glob("hotelseed-spool-*")), list(tmp_path.iterdir())
    return err


def _only_line(err: str) -> str:
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err.strip()


CASES = [("sqlite", signal.SIGINT, "load:bookings"), ("sqlite", signal.SIGTERM, "after-load"),
         ("postgresql", signal.SIGINT, "after-generate"), ("postgresql", signal.SIGTERM, "mid-copy:stays")]


@pytest.mark.parametrize("backend_name,signum,point", CASES, ids=[f"{b}-{s.name}-{p}" for b, s, p in CASES])
def test_a_signal_rolls_back_and_says_so_in_one_line(databases, tmp_path, start, backend_name, signum, point):
    url, digest = _seeded(databases, backend_name)
    run = start(url, point)
    _wait_for(lambda: _state(run.pid) == "T", 300, f"the run stopped at {point}")
    run.send_signal(signum)
    run.send_signal(signal.SIGCONT)
    err = _finish(run, tmp_path)
    assert run.returncode == 128 + signum
    assert _only_line(err) == f"hotelseed: {WORD[signum]}; {NOTHING_CHANGED}"
    assert _digest(url) == digest


@pytest.mark.parametrize("backend_name,signum", [("sqlite", signal.SIGTERM), ("postgresql", signal.SIGINT)])
def test_a_signal_after_commit_says_the_changes_are_in(databases, tmp_path, start, backend_name, signum):
    url = databases.new(backend_name)
    run = start(url, "after-commit")
    _wait_for(lambda: _state(run.pid) == "T", 300, "the run stopped after COMMIT")
    run.send_signal(signum)
    run.send_signal(signal.SIGCONT)
    err = _finish(run, tmp_path)
    assert run.returncode == 128 + signum
    assert _only_line(err) == f"hotelseed: {WORD[signum]}; {COMMITTED}"
    with make_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM seed_runs")).scalar() == 1
        assert run_checks(conn).ok


def test_ctrl_c_in_a_terminal_stops_the_run_and_its_workers_silently(databases, backend, tmp_path, start):
    """A terminal's Ctrl-C reaches every process of the foreground group: the main process unwinds, the worker
    ignores it and is torn down with the pool (no KeyboardInterrupt traceback of its own)."""
    url, digest = _seeded(databases, backend)
    run = start(url, "in-worker", "--workers", "1")
    worker = _stopped_worker(run)
    os.killpg(run.pid, signal.SIGINT)
    os.killpg(run.pid, signal.SIGCONT)
    err = _finish(run, tmp_path)
    assert run.returncode == 130
    assert _only_line(err) == f"hotelseed: interrupted; {NOTHING_CHANGED}"
    assert _state(worker) is None
    assert _digest(url) == digest


def test_a_signal_cancels_a_statement_waiting_on_the_server(databases, tmp_path, start):
    """The run waits behind a lock another session holds (lock timeout 120 s): SIGTERM ends it at once, since psycopg
    cancels the running statement on the server rather than wait for its end."""
    url, digest = _seeded(databases, "postgresql")
    blocker = make_engine(url).connect()
    try:
        blocker.begin()
        blocker.exec_driver_sql("LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE")
        run = start(url, None, HOTELSEED_LOCK_TIMEOUT="120")
        waiting = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        with make_engine(url).connect() as watcher:  # its own connection: a transaction sees one snapshot of the view
            watcher.execution_options(isolation_level="AUTOCOMMIT")
            _wait_for(lambda: watcher.exec_driver_sql(waiting).scalar(), 300, "the run waiting for the lock")
        t0 = time.monotonic()
        run.send_signal(signal.SIGTERM)
        err = _finish(run, tmp_path)
        assert time.monotonic() - t0 < 5
    finally:
        blocker.rollback()
        blocker.close()
    assert run.returncode == 143
    assert _only_line(err) == f"hotelseed: terminated; {NOTHING_CHANGED}"
    assert _digest(url) == digest


def test_a_signal_aborts_a_long_sqlite_statement(tmp_path):
    """SQLite runs a statement in C, where Python runs no signal handler: its progress handler lets the handler run,
    which aborts the statement (here one that would take minutes)."""
    script = ("import sys\n"
              "from hotelseed.core import signals\n"
              "from hotelseed.core.db import make_engine\n"
              "signals.install()\n"
              "with make_engine(sys.argv[1]).connect() as conn:\n"
              "    print('running', flush=True)\n"
              "    conn.exec_driver_sql('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c '\n"
              "                         'WHERE x < 1000000000) SELECT count(*) FROM c').scalar()\n")
    run = subprocess.Popen([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'long.db'}"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline() == "running\n"
        time.sleep(0.3)
        t0 = time.monotonic()
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
        assert time.monotonic() - t0 < 3 and "interrupted" in err, err
    finally:
        run.kill()
        run.wait()


def test_ctrl_c_at_the_confirmation_prompt(databases, tmp_path):
    """In a terminal (a pseudo-terminal, via script(1)), Ctrl-C at the prompt: exit 130, the one line on a line of
    its own, nothing changed."""
    assert shutil.which("script"), "util-linux script(1) is needed to give the CLI a terminal"
    url, digest = _seeded(databases, "sqlite")
    cmd = " ".join([sys.executable, "-m", "hotelseed", "master-complete", "--database-url", url, *SMALL_ARGS,
                    "--scenarios", str(tmp_path / "scenarios.json")])
    run = subprocess.Popen(["script", "-qec", cmd, "/dev/null"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path)})
    try:
        shown = b""
        deadline = time.monotonic() + 300
        while b"reseed?" not in shown and time.monotonic() < deadline:
            if select.select([run.stdout], [], [], 1)[0]:
                shown += os.read(run.stdout.fileno(), 65536)
        run.stdin.write(b"\x03")  # the terminal turns it into SIGINT for the foreground process group
        run.stdin.flush()
        out = (shown + run.communicate(timeout=120)[0]).decode()
    finally:
        run.kill()
        run.wait()
    lines = [line.strip() for line in out.splitlines()]
    assert run.returncode == 130, out
    assert "Traceback" not in out and [line for line in lines if "hotelseed:" in line] == [
        f"hotelseed: interrupted; {NOTHING_CHANGED}"], out
    assert _digest(url) == digest


def test_killing_the_main_process_ends_its_worker_and_frees_the_lock_at_once(databases, tmp_path, start):
    """SIGKILL of the main process alone, its worker in the middle of a job: the worker holds none of the main
    process's sockets, and dies with it. (It went on with its job, holding the inherited database socket, and with it
    the session and the run's advisory lock, then printed a BrokenPipe traceback.)"""
    url, digest = _seeded(databases, "postgresql")
    run = start(url, "in-worker", "--workers", "1")
    worker = _stopped_worker(run)
    assert _sockets(run.pid) and not _sockets(worker)
    run.kill()
    run.wait()
    t0 = time.monotonic()
    with make_engine(url).connect() as lock:
        _wait_for(lambda: _state(worker) in (None, "Z"), 1, "the worker gone")
        _wait_for(lambda: lock.exec_driver_sql(RUN_LOCK).scalar(), 1, "the run's advisory lock free")
    assert time.monotonic() - t0 < 1
    assert run.stderr.read() == ""  # the worker is gone: nothing holds the pipe
    assert _digest(url) == digest


def _sockets(pid: int) -> list[str]:
    """The sockets a process holds, beyond standard input and output."""
    fds = [fd for fd in os.listdir(f"/proc/{pid}/fd") if int(fd) > 2]
    return [link for link in (os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds) if link.startswith("socket:")]
