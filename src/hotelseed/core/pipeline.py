"""Running partition jobs in order, in this process or in worker processes, with bounded memory.

`ordered_results(job, keys, workers)` yields `(key, job(key))` in the order of `keys`. With workers > 0 the
jobs run in that many forked processes, at most `ahead` (by default `workers`) ahead of the consumer: while the
consumer (the database) takes one result, the workers make the next ones, and a finished result waits only when
the caller let them run further ahead (results that are small: spool-file offsets). The job and
whatever it needs are set up before the fork (`fork_state`), so nothing large is pickled per task; only
results travel back. Results are the same whichever process computed them: jobs are pure functions.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import multiprocessing as mp
import os
import re
import shutil
import tempfile
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from hotelseed.core import jit, signals
from hotelseed.core.failpoints import failpoint

_JOB: Callable[[Any], Any] | None = None


def _load_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_MALLOC_TRIM = _load_trim()


def give_back_memory() -> None:
    """Return the heap's free pages to the operating system (glibc's malloc_trim). NumPy's large temporaries
    are freed but their pages stay with the process otherwise, and a forked worker would start from them: the
    loader's memory then grew with the shared context's peak, not with what it still holds."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _run(key):
    assert _JOB is not None
    failpoint("in-worker")  # a worker process is about to generate
    return _JOB(key)


SPOOL_PREFIX = "hotelseed-spool-"


def spool_directory(workers: int):
    """Where worker processes spool their results (a temporary directory named after this process, removed on
    exit), or None without workers: a context manager. Spool directories that killed runs left behind go first."""
    if workers <= 0:
        return contextlib.nullcontext(None)
    sweep_abandoned_spools()
    return tempfile.TemporaryDirectory(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")


def sweep_abandoned_spools(root: str | None = None) -> list[str]:
    """Remove the spool directories of runs that can no longer remove their own (SIGKILL, a crash, power loss:
    a partition's spool is tens of MB, and each killed run left one): those whose process, named in the
    directory's name, is not running. A live process's, or one that may be (PermissionError: another user's),
    and names without a process number are left alone. Returns the directories removed."""
    removed = []
    root = root or tempfile.gettempdir()
    for name in os.listdir(root):
        m = re.fullmatch(rf"{re.escape(SPOOL_PREFIX)}(\d+)-\w+", name)
        if m is None or _running(int(m.group(1))):
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(os.path.join(root, name))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pool(processes: int):
    """Forked workers that end with this process, silently, and hold none of its sockets (signals.become_worker)."""
    return mp.get_context("fork").Pool(processes, initializer=signals.become_worker, initargs=(os.getpid(),))


def run_apart(job: Callable[[], Any]) -> Any:
    """`job()` in a forked child process, its (pickled) result returned here: what the job allocates on the way,
    and the heap it fragments, end with the child, so processes forked from this one later do not start from it."""
    global _JOB
    _JOB = lambda _key: job()  # noqa: E731 - inherited by the forked child
    jit.warm_up()  # compiled code the child will use, loaded once here and shared
    try:
        with _pool(1) as pool:
            return pool.apply(_run, (None,))
    finally:
        _JOB = None


def ordered_results(job: Callable[[Any], Any], keys: Iterable, workers: int = 0,
                    ahead: int | None = None) -> Iterator[tuple[Any, Any]]:
    """`ahead`: jobs submitted but not yet consumed, at most (default `workers`). More than `workers` keeps the
    workers busy while the consumer is slow on one result; only worth it when results are small (a spool file's
    offsets), since up to `ahead` finished results wait here."""
    keys = list(keys)
    ahead = max(workers, ahead or 0)
    if workers <= 0 or len(keys) <= 1:
        for key in keys:
            yield key, job(key)
        return
    global _JOB
    _JOB = job  # inherited by the forked workers
    # Objects made before the fork move to the permanent generation, so the children's collections never write
    # to the pages they share with this process (each write would copy a page: memory grew with the shared
    # context, i.e. with the number of members). https://docs.python.org/3/library/gc.html#gc.freeze
    jit.warm_up()  # compiled code the workers will use, loaded once here and shared
    gc.collect()
    give_back_memory()
    gc.freeze()
    pool = _pool(min(workers, len(keys)))
    try:
        pending: deque = deque()
        queue = iter(keys)
        for key in queue:
            pending.append((key, pool.apply_async(_run, (key,))))
            if len(pending) >= ahead:
                break
        while pending:
            key, result = pending.popleft()
            value = result.get()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.apply_async(_run, (nxt,))))
            yield key, value
            del value  # not held while the next result is received: one result in this process at a time
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
        _JOB = None
