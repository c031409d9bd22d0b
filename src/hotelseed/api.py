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
from hotelseed.outputs import Outputs
from hotelseed.plan import DEFAULT_SEED, Options, parse_as_of, scale_options


@dataclass
class Seeded:
    """What a seed produced: where, the summary (as `--json` prints it), every check, and the scenarios."""

    database_url: str = field(repr=False)  # as given, credentials included: never in repr() (see redact)
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


def after_seed(conn, url: str, result, outputs: Outputs) -> Seeded:
    """Summary, scenarios and report of a seed that passed verification (shared by the CLI and `seed`), read on
    its connection before COMMIT (master_complete's before_commit): the files are staged beside their targets
    (outputs.Outputs), and a failure to render or write them rolls the seed back."""
    from hotelseed import scenarios as sc

    summary = summary_of(conn, result)
    entries = sc.catalogue(conn, is_local_connection(conn, url), result.plan.as_of_datetime.date().isoformat())
    out = Seeded(url, summary, result.report, entries)
    if outputs.wants("--scenarios"):
        out.scenarios_path = outputs.stage("--scenarios", sc.render(entries, {
            "seed": summary["seed"], "as_of": summary["as_of"], "profile": summary["profile"],
            "database": _redacted(url)}))
    summary["scenarios"] = len(entries)
    if outputs.wants("--report"):
        out.report_path = outputs.stage("--report", report_html(conn, result.report, result.plan.profile,
                                                                {"seed": summary["seed"], "as-of": summary["as_of"],
                                                                 "profile": summary["profile"],
                                                                 "rows": f"{summary['rows']:,}"}))
    return out


# What a failed rename after COMMIT already guarantees (outputs.Outputs.publish).
COMMITTED = "the data IS committed and valid (hotelseed verify), but "


def _redacted(url: str) -> str:
    from hotelseed.core.db import redact

    return redact(url)


def report_html(conn, report: Report | None, profile, meta: dict) -> str:
    from hotelseed.report import render

    calibrated = bool(profile.raw.get("profile", {}).get("calibrated_to")) if profile is not None else False
    return render(conn, report, meta, calibrated)


def write_report(conn, path: Path, report: Report | None, profile, meta: dict, option: str = "--out") -> Path:
    """Write the HTML report to `path` whole or not at all (a temporary file beside it, then a rename)."""
    with Outputs({option: path}) as outputs:
        outputs.stage(option, report_html(conn, report, profile, meta))
        outputs.publish()
    return Path(path)


def seed(database_url: str | None = None, *, profile: str | None = None, seed: int = DEFAULT_SEED,
         as_of: str | dt.date | dt.datetime | None = None, members: int | None = None,
         history_months: int | None = None, future_months: int | None = None, years: int | None = None,
         properties: int | None = None, rooms_per_property: int | None = None, scale: str | None = None,
         workers: int | None = None, keep_staff: bool = False, yes: bool = False, allow_remote: bool = False,
         override_environment_check: bool = False, scenarios: str | Path | None = None,
         report: str | Path | None = None, progress=None, consent: Consent | None = None,
         foreign_references: str = "refuse", retire_unplanned_properties: bool = False) -> Seeded:
    """Wipe the module data of `database_url` (default: $DATABASE_URL, else ./hotelseed.db) and seed it, as
    `hotelseed master-complete` does; raise VerificationFailed (with its report) if any invariant fails.
    `foreign_references` ("refuse" or "cascade") and `retire_unplanned_properties` are the CLI's
    --foreign-references and --retire-unplanned-properties.

    `scenarios` and `report` are part of the seed's all-or-nothing: checked before anything changes (UsageError),
    rendered and written beside their targets before COMMIT (a failure rolls the seed back), renamed onto them
    after it. If a rename fails after COMMIT, OutputNotMoved says so: the data is committed and valid, and the
    message names the new file, left beside its target."""
    from hotelseed.core.db import check_reachable, make_engine, resolve_url
    from hotelseed.guard import check_target
    from hotelseed.master import master_complete

    from hotelseed.cleanup import CASCADE, REFUSE
    from hotelseed.core.errors import UsageError

    if foreign_references not in (REFUSE, CASCADE):
        raise UsageError(f"foreign_references must be {REFUSE!r} or {CASCADE!r}, not {foreign_references!r}")
    opts = options(seed, as_of, profile, members, history_months, future_months, years, properties,
                   rooms_per_property, scale, keep_staff)
    consent = consent or Consent(assume_yes=yes, allow_remote=allow_remote,
                                 override_environment=override_environment_check)
    url = resolve_url(database_url)
    with Outputs({"--scenarios": scenarios, "--report": report}, url) as outputs:  # checked before anything changes
        check_target(url, consent)
        engine = make_engine(url)
        check_reachable(engine)
        result = master_complete(engine, opts, progress, consent=consent, workers=workers,
                                 foreign=foreign_references, retire_unplanned=retire_unplanned_properties,
                                 before_commit=lambda conn, seeded: after_seed(conn, url, seeded, outputs))
        outputs.publish(COMMITTED)
    return result.outputs
