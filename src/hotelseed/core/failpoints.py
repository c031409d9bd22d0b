"""Failpoints: named places where a test can make the process die (SIGKILL) or fail (an exception).

HOTELSEED_FAILPOINT=<name> arms one point; HOTELSEED_FAILPOINT_MODE=kill (default) kills the process there
with SIGKILL, as an OOM killer or a `kill -9` would; =raise raises FailpointHit instead; =stop stops the process
there (SIGSTOP), so that a test can send it a signal at a known point and let it go on (SIGCONT). Unarmed, a
failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


class FailpointHit(RuntimeError):
    pass


def failpoint(name: str) -> None:
    armed = os.environ.get("HOTELSEED_FAILPOINT")
    if armed is None or armed != name:
        return
    mode = os.environ.get("HOTELSEED_FAILPOINT_MODE", "kill")
    if mode == "raise":
        raise FailpointHit(f"injected failure at {name}")
    os.kill(os.getpid(), signal.SIGSTOP if mode == "stop" else signal.SIGKILL)
