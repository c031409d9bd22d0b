"""Issue 5's benchmarks, measured side by side in one run: rows/s and peak memory at each size preset, against
`psql \\copy` and against a one-object-per-row SQLAlchemy ORM loader of the same rows, and --workers 2 vs 1.

    python bench/scale.py [--presets small,medium,large,xlarge] [--engines postgresql,sqlite]
                          [--pg postgresql://postgres@127.0.0.1:5432/test] [--orm-rows 60000] [--out bench/out/scale.json]

For each preset and engine: `hotelseed master-complete --scale P` into a fresh database, as a subprocess whose
process tree (loader and generator workers) is sampled for memory every 0.1 s (the sum of proportional set
sizes: pages shared by a forked worker and its parent count once). On PostgreSQL, the
same rows are then dumped (COPY TO, binary, not timed) and loaded by `psql \\copy` (binary) into a fresh
database with the same schema built the same way: secondary indexes, exclusion constraint and foreign keys
set aside, data, then rebuilt, then ANALYZE, as hotelseed's load does. The ORM loader writes the rows of one
property's bookings and everything hanging off them (up to --orm-rows rows) with `session.add(Model(**row))`
into a database holding the same parents, constraints live, as hand-written seed scripts do; its rows/s is
compared with hotelseed's. Results go to --out (JSON) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

AS_OF = "2026-11-25"


def process_tree(pid: int) -> list[int]:
    """A process and its living descendants (Linux: /proc/<pid>/task/*/children)."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def _tree_memory_kb(pid: int) -> int:
    """Memory of a process and all its descendants, in KiB: the sum of their proportional set sizes (Linux
    smaps_rollup), so pages a forked worker still shares with its parent count once, not twice as a sum of
    resident sizes would count them."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_seed(url: str, preset: str, workers: int) -> dict:
    cmd = [sys.executable, "-m", "hotelseed", "master-complete", "--database-url", url, "--scale", preset,
           "--as-of", AS_OF, "--workers", str(workers), "--yes", "--json"]
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_memory_kb(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"master-complete failed: {stderr[-2000:]}")
    summary = json.loads(stdout)
    secs = summary["seconds"]
    return dict(wall=wall, rows=summary["rows_written"], peak_memory_mb=peak[0] / 1024, seconds=secs,
                violations=summary["verification"]["violations"], checks=summary["verification"]["checks"],
                check_seconds=summary["verification"].get("seconds", {}),
                properties=len([k for k in summary["staff"] if k.startswith("MANAGER @")]))


def _pg_db(admin: str, pg: str):
    name = f"hs_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(pg).set(database=name).render_as_string(hide_password=False)


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psql_copy(src_url: str, admin: str, pg: str) -> dict:
    """The same rows through `psql \\copy` (binary), the schema built the same way as hotelseed builds it."""
    from hotelseed import dataset
    from hotelseed.core.bulk import analyze, rebuild, set_aside
    from hotelseed.core.db import make_engine
    from hotelseed.models import metadata
    from hotelseed.schema_admin import migrate

    src = make_url(src_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name, url = _pg_db(admin, pg)
    dst = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tables = [t.name for t in metadata.sorted_tables]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = 0
            with psycopg.connect(src) as conn:  # dump, not timed
                for t in tables:
                    with open(Path(tmp) / f"{t}.bin", "wb") as f, conn.cursor().copy(
                            f'COPY "{t}" TO STDOUT (FORMAT binary)') as copy:
                        for block in copy:
                            f.write(block)
                    rows += conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            engine = make_engine(url)
            with engine.begin() as conn:
                migrate(conn)
            script = Path(tmp) / "load.sql"
            script.write_text("\n".join(f"\\copy \"{t}\" FROM '{Path(tmp) / (t + '.bin')}' WITH (FORMAT binary)"
                                        for t in tables if t != "alembic_version"))
            t0 = time.perf_counter()
            with engine.begin() as conn:  # the same transaction shape as hotelseed: set aside, load, rebuild
                deferred = set_aside(conn, dataset.written_tables())
            # psql's own session loads the data (\copy streams the files from this machine).
            subprocess.run(["psql", dst, "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(script)], check=True)
            t1 = time.perf_counter()
            with engine.begin() as conn:
                rebuild(conn, deferred)
                analyze(conn, dataset.written_tables())
            t2 = time.perf_counter()
            # marks: perf_counter() at the start, when psql's load ended, at the end (bench/cpu_phases.py)
            return dict(wall=t2 - t0, rows=rows, load=t1 - t0, marks=(t0, t1, t2))
    finally:
        _drop(admin, name)


def orm_loader(src_url: str, admin: str, pg: str, max_rows: int) -> dict:
    """One property's bookings and what hangs off them, loaded the way most seed scripts are written."""
    from hotelseed.core.db import make_engine
    from hotelseed.core.schema import Base
    from hotelseed.models import metadata
    from hotelseed.schema_admin import migrate

    child_tables = ["bookings", "stays", "booking_guests", "payments", "room_assignments", "booking_audit_logs",
                    "hold_logs"]
    classes = {m.class_.__table__.name: m.class_ for m in Base.registry.mappers}
    name, url = _pg_db(admin, pg)
    try:
        source = make_engine(src_url)
        engine = make_engine(url)
        with engine.begin() as conn:
            migrate(conn)
        with source.connect() as s:
            pid = s.execute(sa.text("SELECT property_id FROM bookings GROUP BY property_id ORDER BY count(*) LIMIT 1")).scalar()
            # Parents: every table that does not refer, directly or not, to bookings (those are left empty,
            # except the child tables the ORM loads).
            under = {"bookings"}
            for t in metadata.sorted_tables:
                if {fk.column.table.name for fk in t.foreign_keys} & under:
                    under.add(t.name)
            parents = [t for t in metadata.sorted_tables if t.name not in under | {"alembic_version"}]
            src_dsn = make_url(src_url).set(drivername="postgresql").render_as_string(hide_password=False)
            dst_dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(src_dsn) as a, psycopg.connect(dst_dsn) as b:  # parents by COPY, not timed
                for t in parents:
                    with a.cursor().copy(f'COPY "{t.name}" TO STDOUT (FORMAT binary)') as out, \
                            b.cursor().copy(f'COPY "{t.name}" FROM STDIN (FORMAT binary)') as inp:
                        for block in out:
                            inp.write(block)
                b.commit()
            batches = []
            remaining = max_rows
            for t in child_tables:
                table = metadata.tables[t]
                where = ("property_id = :p" if "property_id" in table.c else
                         "booking_id IN (SELECT id FROM bookings WHERE property_id = :p)")
                rows = [dict(r._mapping) for r in s.execute(sa.text(f'SELECT * FROM "{t}" WHERE {where} ORDER BY id '
                                                                    f'LIMIT {max(remaining, 0)}'), {"p": pid})]
                remaining -= len(rows)
                batches.append((classes[t], rows))
        n = sum(len(r) for _c, r in batches)
        t0 = time.perf_counter()
        with Session(engine) as session:
            for cls, rows in batches:
                for row in rows:
                    session.add(cls(**row))
                session.flush()
            session.commit()
        wall = time.perf_counter() - t0
        return dict(wall=wall, rows=n)
    finally:
        _drop(admin, name)


def check_growth(results: dict) -> list[str]:
    """Verification must grow with the rows, no faster: for each engine and each pair of presets measured one
    after the other, the growth of the rows, of the whole verification, and of the three checks that grew the
    most (a check that grows much faster than the rows reads something once per property or per row)."""
    lines = []
    by_engine: dict[str, list[tuple[str, dict]]] = {}
    for key, r in results["presets"].items():
        preset, engine = key.split("/")
        if r.get("check_seconds"):
            by_engine.setdefault(engine, []).append((preset, r))
    for engine, runs in by_engine.items():
        for (p0, r0), (p1, r1) in zip(runs, runs[1:]):
            grew = sorted(((r1["check_seconds"][c] / max(s0, 0.01), c) for c, s0 in r0["check_seconds"].items()
                           if c in r1["check_seconds"] and r1["check_seconds"][c] >= 0.5), reverse=True)[:3]
            lines += ["", f"Verification growth {p0} → {p1} ({engine}): rows ×{r1['rows'] / r0['rows']:.1f}, "
                      f"verify ×{r1['seconds']['verify'] / r0['seconds']['verify']:.1f}; fastest-growing checks "
                      f"(≥ 0.5 s at {p1}): " + ", ".join(f"{c} ×{g:.1f} ({r1['check_seconds'][c]:.1f} s)"
                                                         for g, c in grew)]
    return lines


def markdown(results: dict) -> str:
    """The tables for docs/BENCHMARKS.md, from one run's results."""
    lines = ["| preset | engine | rows | wall s | rows/s | prepare s | load s | indexes + constraints s | verify s "
             "| peak memory MB | psql \\copy s | × psql (whole seed) | × psql (load phase) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, r in results["presets"].items():
        preset, engine = key.split("/")
        s = r["seconds"]
        load_phase = s["load"] + s["constraints"]
        psql = r.get("psql_copy")
        ratios = (f"{psql['wall']:.1f} | {psql['wall'] / r['wall']:.2f} | {psql['wall'] / load_phase:.2f}" if psql
                  else "– | – | –")
        lines.append(f"| {preset} | {engine} | {r['rows']:,} | {r['wall']:.1f} | {r['rows'] / r['wall']:,.0f} "
                     f"| {s['prepare']:.1f} | {s['load']:.1f} | {s['constraints']:.1f} | {s['verify']:.1f} "
                     f"| {r['peak_memory_mb']:.0f} | {ratios} |")
    for key, r in results["presets"].items():
        if "orm" in r:
            orm_rate = r["orm"]["rows"] / r["orm"]["wall"]
            load_phase = r["seconds"]["load"] + r["seconds"]["constraints"]
            lines += ["", f"ORM loader ({key}): {r['orm']['rows']:,} rows in {r['orm']['wall']:.2f} s = "
                      f"{orm_rate:,.0f} rows/s; hotelseed whole seed {r['rows'] / r['wall'] / orm_rate:.1f}×, "
                      f"load phase {r['rows'] / load_phase / orm_rate:.1f}×, psql \\copy "
                      f"{r['psql_copy']['rows'] / r['psql_copy']['wall'] / orm_rate:.1f}× the ORM loader's rows/s"]
    lines += check_growth(results)
    if "workers" in results:
        w = results["workers"]
        lines += ["", f"--workers at {w['preset']} (PostgreSQL, interleaved): "
                  + ", ".join(f"{k}: {', '.join(f'{x:.1f}' for x in v)} s" for k, v in w["wall_s"].items())
                  + f"; best 2 / best 1 = {min(w['wall_s']['2']) / min(w['wall_s']['1']):.2f}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="small,medium,large,xlarge")
    ap.add_argument("--engines", default="postgresql,sqlite")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--orm-rows", type=int, default=60_000)
    ap.add_argument("--workers-preset", default="large", help="preset at which --workers 2 is timed against 1")
    ap.add_argument("--out", default="bench/out/scale.json")
    ap.add_argument("--no-baselines", action="store_true", help="hotelseed only: no psql \\copy, no ORM loader")
    ap.add_argument("--table-from", help="only print the Markdown tables of an earlier run's JSON")
    args = ap.parse_args()
    if args.table_from:
        print(markdown(json.loads(Path(args.table_from).read_text())))
        return
    admin = make_url(args.pg).set(drivername="postgresql").render_as_string(hide_password=False)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results: dict = {"presets": {}, "command": " ".join(sys.argv)}

    def save():
        out.write_text(json.dumps(results, indent=2))

    for preset in args.presets.split(","):
        for engine in args.engines.split(","):
            key = f"{preset}/{engine}"
            if engine == "sqlite":
                with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
                    res = run_seed(f"sqlite:///{Path(tmp) / 'bench.db'}", preset, 1)
            else:
                name, url = _pg_db(admin, args.pg)
                try:
                    res = run_seed(url, preset, 1)
                    if not args.no_baselines:
                        res["psql_copy"] = psql_copy(url, admin, args.pg)
                    if preset == "small" and not args.no_baselines:
                        res["orm"] = orm_loader(url, admin, args.pg, args.orm_rows)
                finally:
                    _drop(admin, name)
            results["presets"][key] = res
            save()
            print(key, json.dumps(res), flush=True)
    if args.workers_preset:
        runs, phases = {}, {}
        for workers in (1, 2, 1, 2):  # interleaved
            name, url = _pg_db(admin, args.pg)
            try:
                res = run_seed(url, args.workers_preset, workers)
                runs.setdefault(workers, []).append(res["wall"])
                phases.setdefault(workers, []).append(res["seconds"])
            finally:
                _drop(admin, name)
        results["workers"] = {"preset": args.workers_preset, "wall_s": runs, "seconds": phases}
        save()
        print("workers", json.dumps(runs), flush=True)
    print(markdown(json.loads(out.read_text())))


if __name__ == "__main__":
    main()
