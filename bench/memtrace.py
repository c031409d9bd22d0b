"""Where the memory goes: one `hotelseed master-complete` as a subprocess, the process tree's memory (sum of
proportional set sizes, as bench/scale.py measures it) sampled every 50 ms and attributed to the progress line
printed last, so a phase's peak shows under the line printed just before it ended (the line itself is printed
when the step is done).

    python bench/memtrace.py DATABASE [master-complete options...]
    python bench/memtrace.py hs_trace --scale xlarge       # PostgreSQL database hs_trace (recreated)
    python bench/memtrace.py /tmp/trace.db --scale medium  # SQLite file (recreated)

Prints the peak per progress line (property lines only when near the overall peak), the loader's and the
workers' shares at the overall peak, and the peak.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from scale import AS_OF, _tree_memory_kb  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def children(pid: int) -> list[int]:
    try:
        return [int(c) for task in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def main() -> None:
    db, options = sys.argv[1], sys.argv[2:]
    if db.startswith("/"):
        url = f"sqlite:///{db}"
        Path(db).unlink(missing_ok=True)
    else:
        url = f"postgresql://postgres@127.0.0.1:5432/{db}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {db}")
            conn.execute(f"CREATE DATABASE {db}")
    proc = subprocess.Popen(["hotelseed", "master-complete", "--database-url", url, "--as-of", AS_OF, "--yes",
                             "--scenarios", os.devnull, *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    phase, peaks, order, at_peak = ["start"], {}, [], [0, [], ""]

    def sample() -> None:
        while proc.poll() is None:
            total = _tree_memory_kb(proc.pid)
            if phase[0] not in peaks:
                order.append(phase[0])
            peaks[phase[0]] = max(peaks.get(phase[0], 0), total)
            if total > at_peak[0]:
                workers = [_tree_memory_kb(c) for c in children(proc.pid)]
                at_peak[:] = [total, [total - sum(workers), *workers], phase[0]]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        text = line.strip()
        if text and text[0].isalnum():  # progress and summary lines, not the tables' borders
            phase[0] = text[:70]
    proc.wait()
    sampler.join()
    top = max(peaks.values())
    for name in order:
        if name.startswith("property") and peaks[name] < 0.93 * top:
            continue
        print(f"{peaks[name] / 1024:7.0f} MB  {name}")
    print(f"at the peak: loader {at_peak[1][0] / 1024:.0f} MB, workers "
          f"{', '.join(f'{w / 1024:.0f}' for w in at_peak[1][1:]) or '-'} MB ({at_peak[2]})")
    print(f"peak {top / 1024:.0f} MB; exit code {proc.returncode}")


if __name__ == "__main__":
    main()
