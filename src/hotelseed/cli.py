"""The hotelseed command line: master-complete, cleanup, verify, realism, migrate.

Every user mistake ends in one line on stderr and a non-zero exit (2 for usage, 1 for a failed
verification); never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hotelseed import __version__
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
    return typer.confirm(f"Delete these {sum(deleting.values()):,} rows and reseed?", default=False, err=True)


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
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="The 'now' of the data: YYYY-MM-DD (12:00 UTC) or ISO date-time. Default: today.")]
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
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (and --json output)."),
    yes: Yes = False,
    dry_run: DryRun = False,
    allow_remote: AllowRemote = False,
    override_environment_check: OverrideEnvironment = False,
):
    """Wipe the module data and recreate it all (staff, members, bookings, loyalty, communication hub), verify every
    invariant, and report. All in one transaction: on any error the database is left as it was."""
    from hotelseed.seed import master_complete
    from hotelseed.summary import summarize

    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale, keep_staff)
    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)

    def progress(step, rows, secs):
        if quiet or as_json:
            return
        if step == "ready":
            err.print(f"hotelseed {__version__}: target {redact(url)}; seed {opts.seed}; as-of {opts.as_of.isoformat()}")
        else:
            err.print(f"  {step:<32} {rows:>10,} rows  {secs:6.2f} s")

    result = master_complete(engine, opts, progress, consent=consent, dry_run=dry_run, workers=workers)
    if dry_run:
        plan = {"dry_run": True, "target": redact(url), "seed": opts.seed, "as_of": opts.as_of.isoformat(),
                "would_delete": result.deleted, "would_create": result.written,
                "catalogue_would_add": result.catalogue_added}
        if as_json:
            print(json.dumps(plan, indent=2))
        else:
            out.print(f"Dry run against {redact(url)}: nothing was changed.")
            for title, rows in (("would delete", result.deleted), ("would create", result.written)):
                out.print(f"[bold]{title}[/bold] ({sum(rows.values()):,} rows): "
                          + ", ".join(f"{t} {n:,}" for t, n in rows.items() if n))
        return
    with engine.connect() as conn:
        summary = summarize(conn)
    summary.update(seed=opts.seed, as_of=opts.as_of.isoformat(), profile=result.plan.profile.name,
                   rows_written=result.rows_written, seconds={k: round(v, 3) for k, v in result.timings.items()},
                   verification={"checks": len(result.report.outcomes), "violations": 0})
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    elif not quiet:
        _print_summary(summary)
        _print_report(result.report)
        total = sum(result.timings.values())
        out.print(f"[green]OK[/green]: {result.rows_written:,} rows in {total:.1f} s, {len(result.report.outcomes)} checks, "
                  f"0 violations. seed={opts.seed} as-of={opts.as_of.isoformat()}")


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
):
    """Delete the module data (communication hub, booking data, bookings, loyalty, guest users) in foreign-key
    order. The catalogue, staff and the superadmin are kept."""
    from hotelseed.cleanup import cleanup as do_cleanup
    from hotelseed.cleanup import count_plan
    from hotelseed.core.db import guarded_transaction
    from hotelseed.guard import check_environment, confirm_deletion
    from hotelseed.schema_admin import require_current
    from hotelseed.seed import run_lock

    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)
    with guarded_transaction(engine) as conn:
        run_lock(conn)
        require_current(conn, auto_create=False)
        check_environment(conn, consent)
        deleting = count_plan(conn, keep_staff=keep_staff)
        if dry_run:
            deleted = deleting
        else:
            confirm_deletion(url, deleting, consent)
            deleted = do_cleanup(conn, keep_staff=keep_staff).deleted
            conn.commit()
    if as_json:
        print(json.dumps(deleted, indent=2))
    else:
        for table, n in deleted.items():
            out.print(f"{table:<32} {n:>10,} deleted")


@app.command()
def verify(
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile the data was made with (tax and SLA checks). Default: the latest seed run's."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="as-of to check against. Default: the latest seed run's."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
):
    """Run one check per invariant and print: invariant, rows checked, violations, example ids. Exit 1 on any violation."""
    from hotelseed.modules.bookings.checks import params_for
    from hotelseed.profile import load_profile
    from hotelseed.schema_admin import require_current
    from hotelseed.core.checks import run
    from hotelseed.verify import ALL_CHECKS

    prof = load_profile(profile) if profile else None
    engine, _ = _engine(database_url)
    with engine.connect() as conn:
        require_current(conn, auto_create=False)
        params = params_for(conn, int(parse_as_of(as_of).timestamp()) if as_of else None)
        params["_profile"] = prof or _seeded_profile(conn)
        report = run(conn, ALL_CHECKS, params)
    if as_json:
        print(json.dumps({"ok": report.ok, "checks": report.as_json()}, indent=2))
    else:
        _print_report(report)
    if not report.ok:
        raise VerificationFailed(report.failure_line(), report)


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

    prof = load_profile(profile) if profile else None
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
    from hotelseed.seed import default_workers

    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt!r} must be parquet or csv")
    part = Shard.parse(shard)
    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} exists and is not a directory")
    clash = list(out_dir.glob(f"*/part-{part.index}-of-{part.count}.{fmt}")) if out_dir.is_dir() else []
    if clash:
        raise UsageError(f"--out {out_dir} already holds this part ({clash[0]}); remove it or choose another directory")

    def progress(step, rows, secs):
        if not (quiet or as_json):
            err.print(f"  {step:<32} {rows:>10,} rows  {secs:6.2f} s")

    rows = do_export(opts, out_dir, fmt, part, default_workers() if workers is None else workers, progress)
    if as_json:
        print(json.dumps({"out": str(out_dir), "format": fmt, "shard": str(part), "rows": rows}, indent=2))
    elif not quiet:
        out.print(f"[green]OK[/green]: {sum(rows.values()):,} rows in {len(rows)} tables written to {out_dir} "
                  f"(shard {part}, {fmt})")


shard_app = typer.Typer(no_args_is_help=True, help=(
    "Load one dataset from several machines (PostgreSQL): prepare once, load i/n on each machine, finish once."))
app.add_typer(shard_app, name="shard")


def _step_printer(quiet: bool):
    def progress(step, rows, secs):
        if not quiet and step != "ready":
            err.print(f"  {step:<32} {rows:>10,} rows  {secs:6.2f} s")
    return progress


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
):
    """Wipe the module data, create the catalogue and staff, record the options every shard will use, and set the
    indexes and constraints aside for the load."""
    from hotelseed import shards as sh

    opts = _options(seed, as_of, profile, members, history_months, future_months, years, properties,
                    rooms_per_property, scale, keep_staff)
    consent = _consent(yes, allow_remote, override_environment_check)
    engine, url = _engine(database_url, consent)
    run_id = sh.prepare(engine, opts, shards, consent, _step_printer(quiet))
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
    written = sh.load(engine, part, workers, consent, _step_printer(quiet))
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
    report = sh.finish(engine, consent, _step_printer(quiet or as_json))
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
):
    """Give up a sharded load: delete what was loaded and put the indexes and constraints back."""
    from hotelseed import shards as sh

    consent = _consent(False, allow_remote, override_environment_check)
    engine, _ = _engine(database_url, consent)
    sh.abandon(engine, consent)
    out.print("sharded load abandoned; the module data is empty and the schema is whole again.")


@app.command()
def migrate(database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP)):
    """Create the schema in an empty database, or upgrade it to the current revision (Alembic)."""
    from hotelseed.guard import write_stamp
    from hotelseed.schema_admin import migrate as do_migrate

    engine, _ = _engine(database_url)
    with engine.begin() as conn:
        out.print(do_migrate(conn))
        out.print(f"environment stamp: {write_stamp(conn)}")


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
    """One line on stderr, never wrapped or styled, credentials redacted; then exit with `code`."""
    line = " ".join(redact(message).split())
    sys.stderr.write(f"hotelseed: {line}\n")
    sys.exit(code)


def main() -> None:
    try:
        app(standalone_mode=False)
    except HotelseedError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except Exception as exc:  # usage errors from the parser and anything unexpected: one line, no traceback
        if isinstance(exc, _usage_errors()):
            _fail(exc.format_message(), 2 if getattr(exc, "exit_code", 2) in (None, 1) else exc.exit_code)
        if os.environ.get("HOTELSEED_DEBUG"):
            raise
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        _fail(f"unexpected error: {type(exc).__name__}: {text[0] if text else ''}", 1)


if __name__ == "__main__":
    main()
