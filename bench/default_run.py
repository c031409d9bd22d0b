"""Wall time and rows/s of the default master seed on SQLite and PostgreSQL, measured side by side.

    python bench/default_run.py [--pg postgresql://postgres@127.0.0.1:5432/test] [--repeat 3] [--compare-load-order]

Each run seeds a fresh database (a new SQLite file; a new PostgreSQL database created and dropped on the
given server) with the default profile and options at a fixed as-of, and reports the median of the
repeats per engine, split into generate / load / verify. Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from hotelseed.core.db import make_engine, resolve_url
from hotelseed.plan import Options, parse_as_of
from hotelseed.seed import master_complete

# The original platform's JavaScript seed: about 1,800 rows in about 18 s on this kind of machine (issue 2).
JS_ROWS_PER_S = 1800 / 18


def one_run(url: str, live_constraints: bool = False) -> dict:
    os.environ["HOTELSEED_LIVE_CONSTRAINTS"] = "1" if live_constraints else "0"
    t0 = time.perf_counter()
    result = master_complete(make_engine(url), Options(as_of=parse_as_of("2026-11-25")))
    wall = time.perf_counter() - t0
    assert result.report.ok
    timings = {k: result.timings.get(k, 0.0) for k in ("generate", "load", "verify")}
    timings["load"] += result.timings.get("constraints", 0.0)  # load = rows in + indexes/constraints rebuilt
    return dict(wall=wall, rows=result.rows_written, **timings)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compare-load-order", action="store_true",
                    help="also run with every index and constraint live during the load (HOTELSEED_LIVE_CONSTRAINTS=1)")
    args = ap.parse_args()
    admin = make_url(args.pg).set(drivername="postgresql").render_as_string(hide_password=False)
    modes = [False, True] if args.compare_load_order else [False]
    results: dict[tuple[str, bool], list[dict]] = {}
    for _ in range(args.repeat):  # interleaved, so engines and modes see the same machine conditions
        for live in modes:
            with tempfile.TemporaryDirectory() as tmp:
                results.setdefault(("SQLite", live), []).append(
                    one_run(resolve_url(f"sqlite:///{Path(tmp) / 'bench.db'}"), live))
            name = f"hs_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                results.setdefault(("PostgreSQL", live), []).append(one_run(resolve_url(url), live))
            finally:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print("| engine | load order | rows | wall s (median) | generate s | load s | verify s | rows/s (wall) | × JS seed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (engine, live), runs in sorted(results.items(), key=lambda kv: (kv[0][0] != "SQLite", kv[0][1])):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rps = med["rows"] / med["wall"]
        order = "constraints live" if live else "data, then indexes and constraints"
        print(f"| {engine} | {order} | {med['rows']:,.0f} | {med['wall']:.1f} | {med['generate']:.1f} | "
              f"{med['load']:.1f} | {med['verify']:.1f} | {rps:,.0f} | {rps / JS_ROWS_PER_S:,.0f}× |")


if __name__ == "__main__":
    main()
