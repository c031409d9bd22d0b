"""Where the CPU goes, phase by phase: hotelseed's processes against everything else (the database server).

Runs `master-complete` at a preset on a fresh PostgreSQL database, then `psql \\copy` of the same rows into a
fresh database built the same way (bench/scale.py's psql_copy), and samples CPU every 0.2 s: the machine's busy
time (/proc/stat) and the CPU of hotelseed's process tree (the loader and its generator workers). Whatever the
machine did beside hotelseed's processes is counted as the server's: run it on an otherwise idle machine. The
phases are read from the seed's progress lines (each printed when its step ends) and, for psql, from when its
load ends. Prints one Markdown table: per phase, the wall time and the cores each side kept busy on average.

    python bench/cpu_phases.py --preset large --workers 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402  (bench/scale.py: fresh databases, the psql \copy baseline)

HZ = os.sysconf("SC_CLK_TCK")
# The seed's progress lines that end a phase, and the phase they end (scale.run_seed's keys, in order).
PHASE_ENDS = [("cleanup", "catalogue and cleanup"), ("prepare (members, loyalty)", "prepare"),
              ("group: loyalty, mail", "load"), ("indexes and constraints", "constraints"), ("verify", "verify")]


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def tree_cpu(root: int) -> int:
    """User + system jiffies of `root` and its living descendants (scale.process_tree), children that ended
    included (in their parent's cutime once it has waited for them)."""
    total = 0
    for pid in scale.process_tree(root):
        try:
            st = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime, stime, cutime, cstime
    return total


def sampled(cmd: list[str], on_line=None) -> tuple[list[tuple[float, int, int, int]], float]:
    """Run `cmd`; samples of (seconds since start, machine busy, machine total, the command's tree CPU)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def read():
        for line in proc.stderr:
            if on_line:
                on_line(time.perf_counter() - t0, line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    samples = []
    while True:
        busy, total = machine_busy()
        samples.append((time.perf_counter() - t0, busy, total, tree_cpu(proc.pid)))
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    reader.join()
    if proc.returncode:
        raise RuntimeError(f"{cmd[:4]} failed with exit {proc.returncode}")
    return samples, time.perf_counter() - t0


def between(samples, start: float, end: float) -> tuple[float, float, float]:
    """(wall, cores busy on the machine, cores busy in the command's tree) from start to end (nearest samples)."""
    a = min(samples, key=lambda s: abs(s[0] - start))
    z = min(samples, key=lambda s: abs(s[0] - end))
    wall = max(z[0] - a[0], 1e-9)
    ncpu = os.cpu_count() or 1
    busy = (z[1] - a[1]) / max(z[2] - a[2], 1) * ncpu
    mine = (z[3] - a[3]) / HZ / wall
    return wall, busy, mine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="large")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    admin = scale.make_url(args.pg).set(drivername="postgresql").render_as_string(hide_password=False)
    name, url = scale._pg_db(admin, args.pg)
    ends: dict[str, float] = {}

    def on_line(t: float, line: str) -> None:
        for label, phase in PHASE_ENDS:
            if line.strip().startswith(label + " ") and phase not in ends:
                ends[phase] = t

    try:
        seed, seed_wall = sampled([sys.executable, "-m", "hotelseed", "master-complete", "--database-url", url,
                                   "--scale", args.preset, "--as-of", scale.AS_OF, "--workers", str(args.workers),
                                   "--yes"], on_line)
        missing = [p for _, p in PHASE_ENDS if p not in ends]
        if missing:
            raise RuntimeError(f"no progress line ended {', '.join(missing)}")
        rows, start = [], 0.0  # the first phase includes starting the interpreter
        for _, phase in PHASE_ENDS:
            rows.append(("hotelseed", phase, *between(seed, start, ends[phase])))
            start = ends[phase]
        rows.append(("hotelseed", "commit and report", *between(seed, start, seed_wall)))
        rows.append(("hotelseed", "**whole seed**", *between(seed, 0.0, seed_wall)))
        psql, stop = [], threading.Event()

        def sample_machine():  # psql runs inside scale.psql_copy: the machine's busy time only
            while not stop.is_set():
                psql.append((time.perf_counter(), *machine_busy(), tree_cpu(os.getpid())))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample_machine, daemon=True)
        sampler.start()
        try:
            t0, t1, t2 = scale.psql_copy(url, admin, args.pg)["marks"]
        finally:
            stop.set()
            sampler.join()
        rows.append(("psql \\copy", "load (\\copy)", *between(psql, t0, t1)))
        rows.append(("psql \\copy", "indexes, constraints, analyze", *between(psql, t1, t2)))
        rows.append(("psql \\copy", "**whole**", *between(psql, t0, t2)))
    finally:
        scale._drop(admin, name)
    print(f"{args.preset}, --workers {args.workers}, {os.cpu_count()} cores\n")
    print("| run | phase | wall s | cores busy (machine) | cores busy (the client: hotelseed's processes; for psql, "
          "this script's, psql included) | cores busy (server and the rest) |")
    print("|---|---|---:|---:|---:|---:|")
    for who, phase, wall, busy, mine in rows:
        if wall < 0.05:
            continue
        print(f"| {who} | {phase} | {wall:.1f} | {busy:.2f} | {mine:.2f} | {max(busy - mine, 0):.2f} |")


if __name__ == "__main__":
    main()
