"""Wall time and rows/s of the default master seed on SQLite and PostgreSQL, measured side by side.

    python bench/default_run.py [--pg postgresql://postgres@127.0.0.1:5432/test] [--repeat 3]

Each run seeds a fresh database (a new SQLite file; a new PostgreSQL database created and dropped on the
given server) with the default profile and options at a fixed as-of, and reports the median of the
repeats per engine, split into generate / load / verify. Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
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


def one_run(url: str) -> dict:
    t0 = time.perf_counter()
    result = master_complete(make_engine(url), Options(as_of=parse_as_of("2026-11-25")))
    wall = time.perf_counter() - t0
    assert result.report.ok
    return dict(wall=wall, rows=result.rows_written, **{k: result.timings.get(k, 0.0) for k in ("generate", "load", "verify")})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    admin = make_url(args.pg).set(drivername="postgresql").render_as_string(hide_password=False)
    results: dict[str, list[dict]] = {"SQLite": [], "PostgreSQL": []}
    for _ in range(args.repeat):  # interleaved, so both engines see the same machine conditions
        with tempfile.TemporaryDirectory() as tmp:
            results["SQLite"].append(one_run(resolve_url(f"sqlite:///{Path(tmp) / 'bench.db'}")))
        name = f"hs_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            results["PostgreSQL"].append(one_run(resolve_url(make_url(args.pg).set(database=name).render_as_string(hide_password=False))))
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print("| engine | rows | wall s (median) | generate s | load s | verify s | rows/s (wall) | × JS seed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for engine, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rps = med["rows"] / med["wall"]
        print(f"| {engine} | {med['rows']:,.0f} | {med['wall']:.1f} | {med['generate']:.1f} | {med['load']:.1f} | "
              f"{med['verify']:.1f} | {rps:,.0f} | {rps / JS_ROWS_PER_S:,.0f}× |")


if __name__ == "__main__":
    main()
