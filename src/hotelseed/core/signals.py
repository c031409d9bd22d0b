"""Signals: SIGINT and SIGTERM end a run by unwinding it, and worker processes end with the process that forked them.

In the main process `install()` makes SIGTERM raise `Terminated`, a KeyboardInterrupt as SIGINT raises, so both
take the same way out: the transaction rolls back (psycopg cancels a statement that is running on the server rather
than wait for its end), the worker pool is torn down, the spool directory removed. It records which signal came, so
that the command line can exit 128 + its number with one line saying what the interruption left: `commit(conn)`
holds a signal back while COMMIT is in flight, so that line knows whether it happened.

In a forked worker `become_worker(parent)` (the pool's initializer) leaves Ctrl-C to the parent, dies with the
parent, silently, and lets go of the parent's database socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import stat
import threading
import time

NOTHING_CHANGED = "nothing was changed"
COMMITTED = "COMMIT had already completed: the changes are in the database"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as SIGINT raises KeyboardInterrupt: the same unwinding, and psycopg's cancel of a running
    statement (it acts on KeyboardInterrupt)."""


_received: int | None = None  # the first SIGINT or SIGTERM since install()
_held = 0  # inside commit(): a signal waits until COMMIT is done
_pending = False  # a signal came while held
_outcome = NOTHING_CHANGED  # what an interruption leaves behind, for the exit line
_previous: dict[int, object] = {}  # the handlers install() replaced


def install() -> None:
    """SIGINT and SIGTERM raise (KeyboardInterrupt, Terminated) in the main thread and are recorded."""
    global _received, _held, _pending, _outcome
    _received, _held, _pending, _outcome = None, 0, False, NOTHING_CHANGED
    for signum in (signal.SIGINT, signal.SIGTERM):
        _previous[signum] = signal.signal(signum, _on_signal)


def uninstall() -> None:
    """The handlers as they were before install()."""
    for signum, handler in _previous.items():
        signal.signal(signum, handler)
    _previous.clear()


def _on_signal(signum: int, _frame) -> None:
    global _received, _pending
    _received = _received or signum
    if _held:
        _pending = True
        return
    _raise(signum)


def _raise(signum: int) -> None:
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def installed() -> bool:
    """Whether SIGINT is ours: this process is the command line."""
    return signal.getsignal(signal.SIGINT) is _on_signal


def let_handlers_run() -> int:
    """SQLite's progress handler, called every so many VM instructions (core/db.py). Python runs a signal's handler
    between bytecodes, so not while a statement runs in SQLite's C code (a check, an index build: seconds on a large
    dataset); called here, it runs, and the KeyboardInterrupt it raises aborts the statement ("interrupted"; sqlite3
    drops the exception itself, hence only where install() records the signal). 0: go on."""
    return 0


def received() -> int | None:
    """The signal that interrupted this run (SIGINT or SIGTERM), or None."""
    return _received


def exit_line() -> str:
    """What the command line says when a signal ended the run: which signal, and what it left."""
    return f"{'terminated' if _received == signal.SIGTERM else 'interrupted'}; {_outcome}"


def leaves(outcome: str) -> None:
    """From now on an interruption leaves `outcome` (said on the exit line) rather than nothing changed."""
    global _outcome
    _outcome = outcome


def commit(conn) -> None:
    """conn.commit(), not interrupted half-way: a signal that comes meanwhile is raised once COMMIT has returned, and
    from then on the exit line says that the changes are in. (A COMMIT that fails raises its own error.)"""
    global _held, _pending
    _held += 1
    try:
        conn.commit()
        leaves(COMMITTED)
    finally:
        _held -= 1
    if _pending and not _held:
        _pending = False
        _raise(_received)


# Worker processes ----------------------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.5


def become_worker(parent: int) -> None:
    """Set up a worker forked from `parent` (a multiprocessing Pool initializer).

    Ctrl-C in a terminal reaches every process of the foreground group: the worker ignores it, the parent handles it
    and tears the pool down. SIGTERM (Pool.terminate) ends it at once, not through the parent's handler, which a
    fork inherits. It dies with the parent, without a traceback: SIGKILL from the kernel when the parent dies (Linux
    PR_SET_PDEATHSIG), and, wherever that is not available or was set too late, its own check every PARENT_POLL_S.
    It holds none of the parent's sockets (drop_inherited_sockets)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    drop_inherited_sockets()


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the polling thread alone
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)  # no finalizers, no output: the parent is gone and nobody reads our result


def drop_inherited_sockets() -> None:
    """Replace every socket this process inherited with /dev/null. A worker needs none, and the parent's database
    connection was open at the fork: while any process holds its socket the server keeps the session, and so its
    locks, after the parent has died. dup2 keeps the descriptor number taken (nothing else can be opened on it), and
    a finalizer that would write to it (libpq's PQfinish sends Terminate, which would end the parent's session)
    writes nowhere. Standard input, output and error are left alone."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in _open_descriptors():
            if fd > 2 and fd != null and _is_socket(fd):
                os.dup2(null, fd)
    finally:
        os.close(null)


def _open_descriptors() -> list[int]:
    for listing in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return [int(name) for name in os.listdir(listing)]
    return []


def _is_socket(fd: int) -> bool:
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:  # the listing's own descriptor, closed since
        return False
