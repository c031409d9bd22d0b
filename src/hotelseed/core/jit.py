"""Numba compilation for the few loops NumPy cannot vectorize (docs/decisions.md, "Numba for the room calendar").

Each function is compiled once per machine: its machine code is cached beside the module (or in Numba's user-wide
cache directory), so later processes load it in a fraction of a second instead of compiling it again.
"""

from __future__ import annotations

from typing import Any, Callable

import numba

_EXAMPLES: list[Callable[[], Any]] = []


def compiled(function):
    """`function` compiled by Numba (no Python objects inside, the GIL released), its machine code cached. Where
    no cache location is writable (a read-only install and no usable $HOME: numba#4908) the caching decorator
    itself raises; compile in every process then instead of failing to import."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:
        return numba.njit(nogil=True)(function)


def example(call: Callable[[], Any]) -> Callable[[], Any]:
    """Register a tiny call of a compiled function, with the argument types its real calls have, for warm_up."""
    _EXAMPLES.append(call)
    return call


def warm_up() -> None:
    """Load every registered compiled function's machine code into this process (from the cache, or compiling it).
    Called before forking workers: they then share those pages with this process instead of each loading its own
    copy of LLVM's state (~35 MB a process, measured)."""
    while _EXAMPLES:
        _EXAMPLES.pop()()
