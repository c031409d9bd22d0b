"""The hotelseed command line: master-complete, cleanup, verify, realism, migrate.

Every user mistake ends in one line on stderr and a non-zero exit (2 for usage, 1 for a failed
verification); never a traceback.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from hotelseed import __version__
from hotelseed.core import signals
from hotelseed.core.db import check_reachable, make_engine, redact, resolve_url
from hotelseed.core.errors import DatabaseStateError, HotelseedError, VerificationFailed
from hotelseed.core.errors import UsageError
from hotelseed.plan import DEFAULT_SEED, Options, parse_as_of, scale_options

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Seed a hotel platform's database with a consistent, realistic dataset, and verify it.")
# Not a terminal (a pipe, CI logs): a fixed width wide enough for the verification table.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# The guard's flags, shared by every destructive command (see guard.py).
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Confirm the deletion without asking (needed when not interactive).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print what would be deleted (and created); change nothing.")]
AllowRemote = Annotated[bool, typer.Option("--allow-remote", help="Allow a database that is not on this machine.")]
OverrideEnvironment = Annotated[bool, typer.Option(
    "--override-environment-check", help="Proceed although the database is stamped with a protected or another environment.")]


class ForeignReferences(str, enum.Enum):
    refuse = "refuse"
    cascade = "cascade"


# Shared by every command that deletes (see cleanup.foreign_rows).
ForeignRefs = Annotated[ForeignReferences, typer.Option(
    "--foreign-references", help="Tables hotelseed does not own that refer to the tables it deletes from: refuse "
    "(default), or cascade: delete their rows that refer to rows this run deletes, and report how many.")]
RetireUnplanned = Annotated[bool, typer.Option(
    "--retire-unplanned-properties", help="Mark the active properties this run does not plan INACTIVE (they keep "
    "their rooms and staff, and get no bookings).")]

DB_HELP = "Target database URL (postgresql://… or sqlite:///PATH). Default: $DATABASE_URL, else ./hotelseed.db"


def _version(value: bool):
    if value:
        out.print(f"hotelseed {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                              help="Show the version and exit.")):
    pass


def _confirm_prompt(target: str, deleting: dict[str, int]) -> bool:
    table = Table(title=f"hotelseed will delete from {target}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in deleting.items():
        if n:
            table.add_row(name, f"{n:,}")
    err.print(table)
    try:
        return typer.confirm(f"Delete these {sum(deleting.values()):,} rows and reseed?", default=False, err=True)
    except typer.Abort:  # Ctrl-C or end of input at the prompt: what follows goes on a line of its own
        err.print()
        raise


def _consent(yes: bool, allow_remote: bool, override_environment_check: bool):
    from hotelseed.guard import Consent

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    return Consent(assume_yes=yes, allow_remote=allow_remote, override_environment=override_environment_check,
                   confirm=_confirm_prompt if interactive else None)


def _engine(database_url: Optional[str], consent=None):
    from hotelseed.guard import Consent, check_target

    url = resolve_url(database_url)
    check_target(url, consent or Consent(allow_remote=True))  # refuse a remote target before connecting
    engine = make_engine(url)
    check_reachable(engine)
    return engine, url


def _print_report(report) -> None:
    table = Table(title="Verification", show_lines=False)
    for col in ("module", "check", "invariant", "rows checked", "violations", "examples"):
        table.add_column(col, justify="right" if col in ("rows checked", "violations") else "left")
    for o in report.outcomes:
        table.add_row(o.check.module, o.check.name, o.check.invariant, f"{o.rows_checked:,}",
                      "0" if o.ok else f"[red]{o.violations:,}[/red]", ", ".join(map(str, o.examples)))
    out.print(table)


def _print_summary(summary: dict, result=None) -> None:
    table = Table(title="Rows per table")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in summary["counts"].items():
        if n:
            table.add_row(name, f"{n:,}")
    out.print(table)
    for key, title in (("booking_status", "Booking status"), ("tiers", "Loyalty tiers"),
                       ("threads_by_category", "Threads by category"), ("thread_assignment", "Thread assignment"),
                       ("staff", "Staff by role and property")):
        total = sum(summary[key].values()) or 1
        out.print(f"[bold]{title}[/bold]: " + ", ".join(f"{k} {v:,} ({100 * v / total:.1f}%)" for k, v in summary[key].items()))


# Options that say what to generate, shared by master-complete and export.
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", help="Profile TOML describing the hotel group (a path or a shipped name).")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Random seed: the same seed and as-of give the same data.")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="The 'now' of the data: YYYY-MM-DD (12:00 UTC) or ISO date-time, between 2000-01-01 and 2099-12-31. Default: today.")]
MembersOpt = Annotated[Optional[int], typer.Option("--members", min=0, help="Loyalty members (default: the profile's 40 a property).")]
HistoryOpt = Annotated[Optional[int], typer.Option("--history-months", min=1, max=240, help="Months of history before as-of (default 36).")]
FutureOpt = Annotated[Optional[int], typer.Option("--future-months", min=0, max=36, help="Months of future arrivals after as-of (default 6).")]
YearsOpt = Annotated[Optional[int], typer.Option("--years", min=1, max=20, help="Years of history (= --history-months 12×N).")]
PropertiesOpt = Annotated[Optional[int], typer.Option("--properties", min=1, help="Properties: the profile's repeated up to N (default: the profile's).")]
RoomsOpt = Annotated[Optional[int], typer.Option("--rooms-per-property", min=1, help="Scale each property's room types to about N rooms.")]
ScaleOpt = Annotated[Optional[str], typer.Option("--scale", help="Size preset: small (the profile), medium (10 properties), large (30), xlarge (100). Explicit flags win.")]
WorkersOpt = Annotated[Optional[int], typer.Option("--workers", min=0, help="Generator processes beside the writer (default 1; 0 = in the writing process).")]


def _options(seed, as_of, profile, members, history_months, future_months, years, properties, rooms_per_property,
             scale, keep_staff=False) -> Options:
    """Options from the flags, every input checked before anything is touched."""
    from hotelseed.plan import make_plan
    from hotelseed.profile import load_profile

    if years is not None and history_months is not None:
        raise UsageError("give --years or --history-months, not both")
    sizes = scale_options(scale, members=members, properties=properties, rooms_per_property=rooms_per_property,
                          history_months=12 * years if years else history_months, future_months=future_months)
    opts = Options(seed=seed, as_of=parse_as_of(as_of), keep_staff=keep_staff, profile=profile, **sizes)
    make_plan(opts, load_profile(profile))
    return opts


class StepDisplay:
    """Progress of a run on stderr: a Rich progress bar per long step (rows and rows/s) on a terminal, one plain
    line per step otherwise (logs, CI), nothing when quiet. Called as the pipeline's progress(step, rows, secs):
    "begin <step>" opens a step (rows = how many parts it has, if known), any other step name reports one done."""

    def __init__(self, quiet: bool, header: str = ""):
        self.quiet, self.header = quiet, header
        self.live = err.is_terminal and not quiet
        self.bar = None
        self.task = None
        self.rows = 0
        self.t0 = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._close()
        return False

    def _close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __call__(self, step: str, rows: int, secs: float) -> None:
        import time

        if step.startswith("warning: "):  # shown even when quiet: a state the user should act on
            self._close()
            err.print(f"hotelseed: {step}", markup=False)
            return
        if self.quiet:
            return
        if step == "ready":
            if self.header:
                err.print(self.header)
            return
        if step.startswith("begin "):
            name = step[6:]
            if not self.live:
                return
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)

            self._close()
            self.rows, self.t0 = 0, time.perf_counter()
            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                                console=err, transient=False)
            self.bar.start()
            self.task = self.bar.add_task(name, total=rows or None, detail="")
            return
        if self.bar is not None and self.task is not None and step.startswith(("property ", "group", "staff")):
            self.rows += rows
            rate = self.rows / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.update(self.task, advance=1, detail=f"{self.rows:>12,} rows  {rate:>9,.0f} rows/s")
            return
        self._close()
        rate = f"{rows / secs:>10,.0f} rows/s" if secs > 0 and rows else ""
        err.print(f"  {step:<32} {rows:>10,} rows  {secs:7.2f} s  {rate}")


def _print_scenarios(entries: list[dict], path) -> None:
    if not entries:
        return
    table = Table(title="Scenario catalogue" + (f" (all {len(entries)} in {path})" if path else ""))
    for col in ("scenario", "find it by", "why"):
        table.add_column(col)
    shown = [e for e in entries if not e["scenario"].startswith("login ")][:14]
    logins = [e for e in entries if e["scenario"].startswith("login ")]
    if logins:
        pw = logins[0].get("password")
        table.add_row(f"{len(logins)} staff logins", ", ".join(e["email"] for e in logins[:3]) + ", …",
                      f"password {pw}" if pw else "no password shown: not a local database")
    for e in shown:
        key = next((f"{k} {e[k]}" for k in ("confirmation_number", "email", "thread_id", "address", "member_number")
                    if e.get(k) is not None), "")
        table.add_row(e["scenario"], key, e["why"])
    out.print(table)


@app.command("master-complete")
def master_complete_cmd(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: ProfileOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    as_of: AsOfOpt = None,
    members: MembersOpt = None,
    history_months: HistoryOpt = None,
    future_months: FutureOpt = None,
    years: YearsOpt = None,
    properties: PropertiesOpt = None,
    rooms_per_property: RoomsOpt = None,
    scale: ScaleOpt = None,
    workers: WorkersOpt = None,
    keep_staff: bool = typer.Option(False, "--keep-staff", help="Keep existing staff users, roles and credentials; only top up quotas."),
    scenarios_path: Optional[Path] = typer.Option(Path("scenarios.json"), "--scenarios", help="Where to write the scenario catalogue (QA logins and records)."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Also write the HTML report (charts, checks) to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (with the scenario catalogue) as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (and --json output)."),
    yes: Yes = False,
    dry_run: DryRun = False,
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
    foreign_references: ForeignRefs = ForeignReferences.refuse,
    retire_unplanned_properties: RetireUnplanned = False,
):
    """Wipe the module data and recreate it all (staff, members, bookings, loyalty, communication hub), verify every
    invariant, and report. All in one transaction: on any error the database is left as it was. The scenario
    catalogue and the report are part of it: their paths are checked first, and they are written before COMMIT
    beside their targets and renamed onto them after it."""
    from hotelseed.api import COMMITTED, after_seed
    from hotelseed.cleanup import foreign_deleted
    from hotelseed.master import master_complete
    from hotelseed.outputs import Outputs

    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale, keep_staff)
    outputs = Outputs({"--scenarios": scenarios_path, "--report": report_path},  # before anything changes
                      resolve_url(database_url))
    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)
    display = StepDisplay(quiet or as_json, header=f"hotelseed {__version__}: target {redact(url)}; seed {opts.seed}; "
                                                   f"as-of {opts.as_of.isoformat()}")
    with display, outputs:
        result = master_complete(engine, opts, display, consent=consent, dry_run=dry_run, workers=workers,
                                 foreign=foreign_references.value, retire_unplanned=retire_unplanned_properties,
                                 before_commit=lambda conn, seeded: after_seed(conn, url, seeded, outputs))
        outputs.publish(COMMITTED)
    if dry_run:
        plan = {"dry_run": True, "target": redact(url), "seed": opts.seed, "as_of": opts.as_of.isoformat(),
                "would_delete": result.deleted, "would_create": result.written,
                "catalogue_would_add": result.catalogue_added, "would_retire": result.retired}
        if as_json:
            print(json.dumps(plan, indent=2))
        else:
            out.print(f"Dry run against {redact(url)}: nothing was changed.")
            for title, rows in (("would delete", result.deleted), ("would create", result.written)):
                out.print(f"[bold]{title}[/bold] ({sum(rows.values()):,} rows): "
                          + ", ".join(f"{t} {n:,}" for t, n in rows.items() if n))
            if result.retired:
                out.print(f"[bold]would retire[/bold] (mark INACTIVE): {', '.join(result.retired)}")
        return
    seeded = result.outputs
    summary = seeded.summary
    summary["foreign_rows_deleted"] = foreign_deleted(result.deleted)
    summary["retired_properties"] = result.retired
    if as_json:
        summary["scenarios"] = seeded.scenarios
        summary["scenarios_path"] = str(seeded.scenarios_path) if seeded.scenarios_path else None
        summary["report_path"] = str(seeded.report_path) if seeded.report_path else None
        print(json.dumps(summary, indent=2, default=str))
    elif not quiet:
        _print_summary(summary)
        _print_report(result.report)
        _print_scenarios(seeded.scenarios, seeded.scenarios_path)
        total = sum(result.timings.values())
        out.print(f"[green]OK[/green]: {result.rows_written:,} rows in {total:.1f} s, {len(result.report.outcomes)} checks, "
                  f"0 violations. seed={opts.seed} as-of={opts.as_of.isoformat()}")
        if seeded.report_path:
            out.print(f"Report: {seeded.report_path}")
        _print_beyond(summary)


def _print_beyond(summary: dict) -> None:
    """What the run did outside the module data, each said explicitly by an option."""
    if summary["foreign_rows_deleted"]:
        out.print("Rows deleted from tables hotelseed does not own (--foreign-references cascade): "
                  + ", ".join(f"{t} {n:,}" for t, n in summary["foreign_rows_deleted"].items()), markup=False)
    if summary["retired_properties"]:
        out.print(f"Retired (now INACTIVE): {', '.join(summary['retired_properties'])}", markup=False)


@app.command()
def cleanup(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    keep_staff: bool = typer.Option(True, "--keep-staff/--delete-seeded-staff",
                                    help="Keep staff (default) or also delete staff that hotelseed created."),
    as_json: bool = typer.Option(False, "--json", help="Print deleted row counts as JSON."),
    yes: Yes = False,
    dry_run: DryRun = False,
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
    foreign_references: ForeignRefs = ForeignReferences.refuse,
):
    """Delete the module data (communication hub, booking data, bookings, loyalty, guest users) in foreign-key
    order. The catalogue, staff and the superadmin are kept."""
    from hotelseed.cleanup import cleanup as do_cleanup
    from hotelseed.cleanup import count_plan
    from hotelseed.core.db import guarded_transaction
    from hotelseed.guard import check_connection, confirm_deletion
    from hotelseed.core.bulk import prove_foreign_keys
    from hotelseed.schema_admin import require_current
    from hotelseed.master import run_lock

    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)
    # SQLite deletes row by row from a table whose foreign keys it enforces: not enforced here, proven before
    # COMMIT (as master-complete does; docs/decisions.md).
    with guarded_transaction(engine, sqlite_foreign_keys=False) as conn:
        run_lock(conn)
        require_current(conn, auto_create=False)
        check_connection(conn, consent)
        deleting = count_plan(conn, keep_staff=keep_staff, foreign=foreign_references.value)
        if dry_run:
            deleted = deleting
        else:
            confirm_deletion(url, deleting, consent)
            deleted = do_cleanup(conn, keep_staff=keep_staff, foreign=foreign_references.value).deleted
            prove_foreign_keys(conn)
            signals.commit(conn)
    if as_json:
        print(json.dumps(deleted, indent=2))
    else:
        if dry_run:
            out.print(f"Dry run against {redact(url)}: nothing was changed.")
        for table, n in deleted.items():
            out.print(f"{table:<32} {n:>10,} {'would be deleted' if dry_run else 'deleted'}")


@app.command()
def verify(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile the data was made with (tax and SLA checks). Default: the latest seed run's."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="as-of to check against. Default: the latest seed run's."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
):
    """Run one check per invariant and print: invariant, rows checked, violations, example ids. Exit 1 on any violation."""
    from hotelseed.profile import load_profile
    from hotelseed.schema_admin import require_current

    prof = load_profile(profile) if profile is not None else None
    engine, _ = _engine(database_url)
    with engine.connect() as conn:
        require_current(conn, auto_create=False)
        report = _run_checks(conn, prof, as_of)
    if as_json:
        print(json.dumps({"ok": report.ok, "checks": report.as_json()}, indent=2))
    else:
        _print_report(report)
    if not report.ok:
        raise VerificationFailed(report.failure_line(), report)


def _run_checks(conn, prof, as_of: str | None):
    """Every check against a seeded database, with the profile given or else the latest seed run's."""
    from hotelseed.core.checks import run
    from hotelseed.modules.bookings.checks import params_for
    from hotelseed.verify import ALL_CHECKS

    params = params_for(conn, int(parse_as_of(as_of).timestamp()) if as_of else None)
    params["_profile"] = prof or _seeded_profile(conn)
    return run(conn, ALL_CHECKS, params)


def _seeded_profile(conn):
    """The profile of the latest seed run (as it was given: a shipped name or a path); the default profile
    when the database has no run or the file is gone."""
    from hotelseed.profile import load_profile
    from sqlalchemy import text

    row = conn.execute(text("SELECT options FROM seed_runs ORDER BY id DESC LIMIT 1")).first()
    options = row[0] if row else None
    if isinstance(options, str):
        options = json.loads(options)
    from hotelseed.profile import scaled

    options = options or {}
    try:
        prof = load_profile(options.get("profile"))
    except UsageError:
        prof = load_profile(None)
    return scaled(prof, options.get("properties"), options.get("rooms_per_property"))


@app.command()
def realism(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile the data was made with (targets). Default: the latest seed run's."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="as-of of the data. Default: the latest seed run's."),
    fail_under: Optional[float] = typer.Option(None, "--fail-under", min=0.0, max=1.0,
                                               help="Exit 1 when the overall score is below this."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
):
    """Compare the data with published hotel demand, metric by metric and per hotel kind: 1 − TVD for
    distributions, 1 − |difference| for rates, and an overall score (the mean)."""
    from hotelseed.modules.bookings.checks import params_for
    from hotelseed.modules.bookings.realism import load_reference
    from hotelseed.profile import load_profile
    from hotelseed.realism import realism_report
    from hotelseed.schema_admin import require_current

    prof = load_profile(profile) if profile is not None else None
    engine, _ = _engine(database_url)
    with engine.connect() as conn:
        require_current(conn, auto_create=False)
        params = params_for(conn, int(parse_as_of(as_of).timestamp()) if as_of else None)
        report = realism_report(conn, params["as_of"], prof or _seeded_profile(conn))
    if not report.scores:
        raise DatabaseStateError("no bookings to compare: seed the database first (hotelseed master-complete)")
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        table = Table(title="Realism: generated vs reference")
        for col in ("module", "kind", "metric", "generated", "reference", "score"):
            table.add_column(col, justify="right" if col == "score" else "left")
        for s in report.scores:
            if s.kind == "rate":
                gen, ref = f"{100 * s.generated:.1f}%", f"{100 * s.reference:.1f}%"
            else:
                gen, ref = f"largest gap {s.worst()}", ""
            colour = "green" if s.score >= 0.95 else ("yellow" if s.score >= 0.85 else "red")
            table.add_row(s.module, s.group, s.metric, gen, ref, f"[{colour}]{s.score:.3f}[/{colour}]")
        out.print(table)
        for g in sorted({s.group for s in report.scores}):
            out.print(f"[bold]{g}[/bold]: {report.group_overall(g):.3f}")
        out.print(f"[bold]overall: {report.overall:.3f}[/bold]  (reference: {load_reference()['source'][:120]}…)")
    if fail_under is not None and report.overall < fail_under:
        raise VerificationFailed(f"realism score {report.overall:.3f} is below --fail-under {fail_under}", None)


@app.command()
def export(
    out_dir: Path = typer.Option(..., "--out", help="Directory to write: OUT/<table>/part-<i>-of-<n>.<format>."),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Write only part i of n (0-based), e.g. 0/4: a disjoint, deterministic part."),
    profile: ProfileOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    as_of: AsOfOpt = None,
    members: MembersOpt = None,
    history_months: HistoryOpt = None,
    future_months: FutureOpt = None,
    years: YearsOpt = None,
    properties: PropertiesOpt = None,
    rooms_per_property: RoomsOpt = None,
    scale: ScaleOpt = None,
    workers: WorkersOpt = None,
    as_json: bool = typer.Option(False, "--json", help="Print rows per table as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (and --json output)."),
):
    """Write the dataset as Parquet or CSV files, one dataset per table, without any database (for DuckDB, Spark
    or a warehouse). The same options give the same rows as master-complete."""
    from hotelseed.core.partition import Shard
    from hotelseed.export import export as do_export
    from hotelseed.master import default_workers
    from hotelseed.outputs import check_directory_target

    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt!r} must be parquet or csv")
    part = Shard.parse(shard)
    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} exists and is not a directory")
    check_directory_target("--out", out_dir)
    clash = list(out_dir.glob(f"*/part-{part.index}-of-{part.count}.{fmt}")) if out_dir.is_dir() else []
    if clash:
        raise UsageError(f"--out {out_dir} already holds this part ({clash[0]}); remove it or choose another directory")

    signals.leaves(f"the files written so far in {out_dir} are incomplete")
    with StepDisplay(quiet or as_json) as progress:
        rows = do_export(opts, out_dir, fmt, part, default_workers() if workers is None else workers, progress)
    if as_json:
        print(json.dumps({"out": str(out_dir), "format": fmt, "shard": str(part), "rows": rows}, indent=2))
    elif not quiet:
        out.print(f"[green]OK[/green]: {sum(rows.values()):,} rows in {len(rows)} tables written to {out_dir} "
                  f"(shard {part}, {fmt})")


shard_app = typer.Typer(no_args_is_help=True, help=(
    "Load one dataset from several machines (PostgreSQL): prepare once, load i/n on each machine, finish once."))
app.add_typer(shard_app, name="shard")


@shard_app.command("prepare")
def shard_prepare(
    shards: int = typer.Option(..., "--shards", min=1, help="How many shards will load the data."),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: ProfileOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    as_of: AsOfOpt = None,
    members: MembersOpt = None,
    history_months: HistoryOpt = None,
    future_months: FutureOpt = None,
    years: YearsOpt = None,
    properties: PropertiesOpt = None,
    rooms_per_property: RoomsOpt = None,
    scale: ScaleOpt = None,
    keep_staff: bool = typer.Option(False, "--keep-staff", help="Keep existing staff users, roles and credentials."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    yes: Yes = False,
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
    foreign_references: ForeignRefs = ForeignReferences.refuse,
    retire_unplanned_properties: RetireUnplanned = False,
):
    """Wipe the module data, create the catalogue and staff, record the options every shard will use, and set the
    indexes and constraints aside for the load."""
    from hotelseed import shards as sh

    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale, keep_staff)
    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)
    with StepDisplay(quiet) as progress:
        run_id = sh.prepare(engine, opts, shards, consent, progress, foreign_references.value,
                            retire_unplanned_properties)
    if not quiet:
        out.print(f"[green]OK[/green]: run {run_id} prepared for {shards} shards on {redact(url)}; now run "
                  f"`hotelseed shard load i/{shards}` for each i, then `hotelseed shard finish`.")


@shard_app.command("load")
def shard_load(
    shard: str = typer.Argument(..., help="i/n: this machine's part (0-based)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    workers: WorkersOpt = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
):
    """Generate shard i of n with the prepared run's options and load it (one transaction)."""
    from hotelseed import shards as sh
    from hotelseed.core.partition import Shard

    part = Shard.parse(shard)
    consent = _consent(False, allow_remote, override_environment_check)
    engine, _ = _engine(database_url, consent)
    with StepDisplay(quiet) as progress:
        written = sh.load(engine, part, workers, consent, progress)
    if not quiet:
        out.print(f"[green]OK[/green]: shard {part} loaded, {sum(written.values()):,} rows.")


@shard_app.command("finish")
def shard_finish(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (and --json output)."),
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
):
    """Rebuild and validate the indexes and constraints, then verify every invariant; COMMIT only if all hold."""
    from hotelseed import shards as sh

    consent = _consent(False, allow_remote, override_environment_check)
    engine, _ = _engine(database_url, consent)
    with StepDisplay(quiet or as_json) as progress:
        report = sh.finish(engine, consent, progress)
    if as_json:
        print(json.dumps({"ok": report.ok, "checks": report.as_json()}, indent=2))
    elif not quiet:
        _print_report(report)
        out.print(f"[green]OK[/green]: all shards loaded, {len(report.outcomes)} checks, 0 violations.")


@shard_app.command("abandon")
def shard_abandon(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
    foreign_references: ForeignRefs = ForeignReferences.refuse,
):
    """Give up a sharded load: delete what was loaded and put the indexes and constraints back."""
    from hotelseed import shards as sh

    consent = _consent(False, allow_remote, override_environment_check)
    engine, _ = _engine(database_url, consent)
    sh.abandon(engine, consent, foreign_references.value)
    out.print("sharded load abandoned; the module data is empty and the schema is whole again.")


@app.command()
def report(
    out_path: Path = typer.Option(Path("report.html"), "--out", help="The HTML file to write."),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile the data was made with. Default: the latest seed run's."),
    skip_checks: bool = typer.Option(False, "--skip-checks", help="Do not run the verification checks (faster on large data)."),
    as_json: bool = typer.Option(False, "--json", help="Print where the report went, as JSON."),
):
    """Write one self-contained HTML file that shows the dataset: rows per table, every check, and charts
    (occupancy, status, lead time, stay length, ADR, tiers, threads, staff workload). Opens offline."""
    from hotelseed.api import write_report
    from hotelseed.outputs import Outputs
    from hotelseed.profile import load_profile
    from hotelseed.schema_admin import require_current

    # Before connecting: a bad path is exit 2, not an error after the work.
    Outputs({"--out": out_path}, resolve_url(database_url))
    engine, url = _engine(database_url)
    with engine.connect() as conn:
        require_current(conn, auto_create=False)
        prof = load_profile(profile) if profile is not None else _seeded_profile(conn)
        checks = None if skip_checks else _run_checks(conn, prof, None)
        row = conn.execute(sa.text("SELECT seed, as_of, profile FROM seed_runs ORDER BY id DESC LIMIT 1")).first()
        meta = {"database": redact(url)}
        if row:
            meta.update({"seed": row[0], "as-of": str(row[1])[:19], "profile": row[2]})
        path = write_report(conn, out_path, checks, prof, meta)
    if as_json:
        print(json.dumps({"report": str(path), "checks": None if checks is None else len(checks.outcomes),
                          "ok": None if checks is None else checks.ok}))
    else:
        out.print(f"Report written to {path}")
    if checks is not None and not checks.ok:
        raise VerificationFailed(checks.failure_line(), checks)


@app.command()
def migrate(database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
            as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON.")):
    """Create the schema in an empty database, or upgrade it to the current revision (Alembic)."""
    from hotelseed.guard import write_stamp
    from hotelseed.schema_admin import head_revision
    from hotelseed.schema_admin import migrate as do_migrate
    from hotelseed.schema_admin import require_writable

    engine, _ = _engine(database_url)
    with engine.begin() as conn:
        require_writable(conn)
        done = do_migrate(conn)
        stamp = write_stamp(conn)
    if as_json:
        print(json.dumps({"migration": done, "revision": head_revision(), "environment": stamp}))
    else:
        out.print(done)
        out.print(f"environment stamp: {stamp}")


def _usage_errors() -> tuple[type, ...]:
    """Typer >= 0.16 vendors Click (typer.exceptions.TyperException); older Typer raises Click's own."""
    kinds: list[type] = []
    try:
        from typer.exceptions import TyperException

        kinds.append(TyperException)
    except ImportError:
        pass
    try:
        import click

        kinds.append(click.exceptions.ClickException)
    except ImportError:
        pass
    return tuple(kinds)


def _fail(message: str, code: int) -> None:
    """One line on stderr, never wrapped or styled, credentials redacted; then exit with `code`. A run that SIGINT or
    SIGTERM ended says so instead, and exits 128 + the signal's number, whatever error its unwinding met."""
    if signals.received() is not None:
        message, code = signals.exit_line(), 128 + signals.received()
    line = " ".join(redact(message).split())
    sys.stderr.write(f"hotelseed: {line}\n")
    sys.exit(code)


def main() -> None:
    signals.install()
    try:
        code = app(standalone_mode=False)  # Typer returns 130 for a KeyboardInterrupt (SIGINT, SIGTERM: signals.py)
        if signals.received() is not None:
            _fail("interrupted", 130)
        if code:
            sys.exit(code)
    except HotelseedError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except Exception as exc:  # usage errors from the parser and anything unexpected: one line, no traceback
        if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help is printed, no empty error line
            sys.exit(2)
        if isinstance(exc, _usage_errors()):
            _fail(exc.format_message(), 2 if getattr(exc, "exit_code", 2) in (None, 1) else exc.exit_code)
        if os.environ.get("HOTELSEED_DEBUG"):
            raise
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        _fail(f"unexpected error: {type(exc).__name__}: {text[0] if text else ''}", 1)
    finally:
        signals.uninstall()  # for a caller in the same process (the tests)


if __name__ == "__main__":
    main()
