"""The library API: `from hotelseed import seed`.

    from hotelseed import seed
    result = seed("sqlite:///demo.db", as_of="2026-11-25", history_months=6, yes=True)
    result.summary["booking_status"], result.scenario("booking checked_in")

The same options as `hotelseed master-complete`, the same guard (a script that deletes rows must say yes=True,
a remote database needs allow_remote=True), the same one transaction and verification. Returns what the CLI
prints: the summary, the verification report and the scenario catalogue; optionally writes scenarios.json and
the HTML report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from hotelseed.core.checks import Report
from hotelseed.guard import Consent, is_local_connection
from hotelseed.plan import DEFAULT_SEED, Options, parse_as_of, scale_options


@dataclass
class Seeded:
    """What a seed produced: where, the summary (as `--json` prints it), every check, and the scenarios."""

    database_url: str
    summary: dict
    report: Report
    scenarios: list[dict] = field(default_factory=list)
    scenarios_path: Path | None = None
    report_path: Path | None = None

    def scenario(self, name: str) -> dict:
        """The first catalogue entry called `name` (e.g. "login manager", "booking cancelled", "member gold")."""
        for entry in self.scenarios:
            if entry["scenario"] == name:
                return entry
        raise KeyError(f"no scenario {name!r}; known: {sorted({e['scenario'] for e in self.scenarios})}")


def options(seed: int = DEFAULT_SEED, as_of: str | dt.date | dt.datetime | None = None, profile: str | None = None,
            members: int | None = None, history_months: int | None = None, future_months: int | None = None,
            years: int | None = None, properties: int | None = None, rooms_per_property: int | None = None,
            scale: str | None = None, keep_staff: bool = False) -> Options:
    """Options as the CLI builds them (presets, then explicit values); every value checked."""
    from hotelseed.core.errors import UsageError
    from hotelseed.plan import make_plan
    from hotelseed.profile import load_profile

    if years is not None and history_months is not None:
        raise UsageError("give years or history_months, not both")
    if isinstance(as_of, dt.datetime):
        as_of = as_of.isoformat()
    elif isinstance(as_of, dt.date):
        as_of = as_of.isoformat()
    sizes = scale_options(scale, members=members, properties=properties, rooms_per_property=rooms_per_property,
                          history_months=12 * years if years else history_months, future_months=future_months)
    opts = Options(seed=seed, as_of=parse_as_of(as_of), keep_staff=keep_staff, profile=profile, **sizes)
    make_plan(opts, load_profile(profile))
    return opts


def summary_of(conn, result) -> dict:
    from hotelseed.summary import summarize

    out = summarize(conn)
    opts = result.plan.options
    out.update(seed=opts.seed, as_of=result.plan.as_of_datetime.isoformat(),
               profile=result.plan.profile.name, rows_written=result.rows_written,
               seconds={k: round(v, 3) for k, v in result.timings.items()},
               verification={"checks": len(result.report.outcomes), "violations": 0,
                             "seconds": {o.check.name: round(o.seconds, 3) for o in result.report.outcomes}})
    return out


def after_seed(engine, url: str, result, scenarios_path: str | Path | None, report_path: str | Path | None) -> Seeded:
    """Summary, scenarios and report of a finished seed (shared by the CLI and `seed`)."""
    from hotelseed import scenarios as sc

    with engine.connect() as conn:
        summary = summary_of(conn, result)
        entries = sc.catalogue(conn, is_local_connection(conn, url), result.plan.as_of_datetime.date().isoformat())
        out = Seeded(url, summary, result.report, entries)
        if scenarios_path is not None:
            out.scenarios_path = sc.write(entries, Path(scenarios_path), {
                "seed": summary["seed"], "as_of": summary["as_of"], "profile": summary["profile"],
                "database": _redacted(url)})
        summary["scenarios"] = len(entries)
        if report_path is not None:
            out.report_path = write_report(conn, Path(report_path), result.report, result.plan.profile,
                                           {"seed": summary["seed"], "as-of": summary["as_of"],
                                            "profile": summary["profile"], "rows": f"{summary['rows']:,}"})
    return out


def _redacted(url: str) -> str:
    from hotelseed.core.db import redact

    return redact(url)


def write_report(conn, path: Path, report: Report | None, profile, meta: dict) -> Path:
    from hotelseed.report import render

    calibrated = bool(profile.raw.get("profile", {}).get("calibrated_to")) if profile is not None else False
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(conn, report, meta, calibrated), encoding="utf-8")
    return path


def seed(database_url: str | None = None, *, profile: str | None = None, seed: int = DEFAULT_SEED,
         as_of: str | dt.date | dt.datetime | None = None, members: int | None = None,
         history_months: int | None = None, future_months: int | None = None, years: int | None = None,
         properties: int | None = None, rooms_per_property: int | None = None, scale: str | None = None,
         workers: int | None = None, keep_staff: bool = False, yes: bool = False, allow_remote: bool = False,
         override_environment_check: bool = False, scenarios: str | Path | None = None,
         report: str | Path | None = None, progress=None, consent: Consent | None = None) -> Seeded:
    """Wipe the module data of `database_url` (default: $DATABASE_URL, else ./hotelseed.db) and seed it, as
    `hotelseed master-complete` does; raise VerificationFailed (with its report) if any invariant fails."""
    from hotelseed.core.db import check_reachable, make_engine, resolve_url
    from hotelseed.guard import check_target
    from hotelseed.master import master_complete

    opts = options(seed, as_of, profile, members, history_months, future_months, years, properties,
                   rooms_per_property, scale, keep_staff)
    consent = consent or Consent(assume_yes=yes, allow_remote=allow_remote,
                                 override_environment=override_environment_check)
    url = resolve_url(database_url)
    check_target(url, consent)
    engine = make_engine(url)
    check_reachable(engine)
    result = master_complete(engine, opts, progress, consent=consent, workers=workers)
    return after_seed(engine, url, result, scenarios, report)
