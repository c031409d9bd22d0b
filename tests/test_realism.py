"""Realism (issue 4): the calibrated profile matches the published hotel facts, the default profile lands on
its tier mix, every property on its occupancy, and the relations revenue managers know hold in the data.

The lisbon-algarve seed is the full default run (36 months of history) at a fixed seed and as-of, on both
engines; the scores are read back with the real `hotelseed realism` command.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sqlalchemy as sa

from hotelseed.core.db import make_engine
from hotelseed.core.errors import UsageError
from hotelseed.core.metrics import bin_labels, rate_score, shares_of, tvd_score
from hotelseed.digest import table_digests
from hotelseed.modules.bookings.checks import params_for
from hotelseed.modules.bookings.realism import occupancy
from hotelseed.plan import parse_as_of
from hotelseed.profile import TIERS, load_profile

from conftest import _seeded_db
from test_cli import hs

LISBON = dict(as_of=parse_as_of("2026-11-25"), profile="lisbon-algarve")


@pytest.fixture
def lisbon_dataset(databases, backend):
    return _seeded_db(databases, backend, "lisbon", **LISBON)


def _realism(url: str, profile: str | None = None) -> dict:
    args = ["realism", "--database-url", url, "--json"] + (["--profile", profile] if profile else [])
    proc = hs(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- the metric shapes -------------------------------------------------------------------------------------

def test_metric_shapes():
    assert tvd_score({"a": 1, "b": 3}, {"a": 0.25, "b": 0.75}) == pytest.approx(1.0)
    assert tvd_score({"a": 1}, {"b": 1}) == pytest.approx(0.0)
    assert tvd_score({"a": 0.5, "b": 0.5}, {"a": 0.7, "b": 0.3}) == pytest.approx(0.8)
    assert rate_score(0.417, 0.372) == pytest.approx(0.955)
    labels = bin_labels(np.array([0, 3, 7, 400]), [("0", 0, 0), ("1-6", 1, 6), ("7+", 7, None)])
    assert labels.tolist() == ["0", "1-6", "7+", "7+"]
    assert shares_of(labels, ["0", "1-6", "7+", "x"]) == {"0": 0.25, "1-6": 0.25, "7+": 0.5, "x": 0.0}


def test_stay_pmf_tilts_to_the_asked_mean():
    from hotelseed.modules.bookings.demand import stay_pmf

    base = np.array([0.2, 0.2, 0.15, 0.1, 0.05, 0.05, 0.2, 0.05])
    n = np.arange(1, 9)
    mean = float((base * n).sum() / base.sum())
    for factor in (0.8, 1.0, 1.3):
        q = stay_pmf(base, factor)
        assert q.sum() == pytest.approx(1.0) and (q > 0).all()
        assert float((q * n).sum()) == pytest.approx(mean * factor, rel=1e-6)


# --- the calibrated profile ----------------------------------------------------------------------------------

def test_lisbon_algarve_scores_at_least_095_overall_and_085_per_metric(lisbon_dataset):
    url, result = lisbon_dataset
    assert result.report.ok  # and it is consistent: every invariant holds
    report = _realism(url, "lisbon-algarve")
    scores = {(m["group"], m["metric"]): m["score"] for m in report["metrics"]}
    assert {g for g, _ in scores} >= {"CITY", "RESORT", "lisboa", "algarve", "ALL"}
    assert len([k for k in scores if k[0] in ("CITY", "RESORT")]) == 30  # 15 metrics per hotel kind, ADR included
    assert report["overall"] >= 0.95, report["groups"]
    weakest = min(scores, key=scores.get)
    assert scores[weakest] >= 0.85, f"{weakest}: {scores[weakest]}"


def test_lisbon_algarve_tier_mix_and_occupancy_land_on_their_targets(lisbon_dataset):
    url, _ = lisbon_dataset
    profile = load_profile("lisbon-algarve")
    _assert_tier_mix(url, profile, tolerance=0.05)
    _assert_occupancy(url, profile, tolerance=0.02)


def test_lisbon_algarve_is_the_same_data_on_both_engines(databases):
    sqlite_url, _ = _seeded_db(databases, "sqlite", "lisbon", **LISBON)
    pg_url, _ = _seeded_db(databases, "postgresql", "lisbon", **LISBON)
    with make_engine(sqlite_url).connect() as a, make_engine(pg_url).connect() as b:
        assert table_digests(a) == table_digests(b)


def test_lisbon_algarve_relations_revenue_managers_know(lisbon_dataset):
    """Not marginals: how cancellation depends on the booking, how price moves with season and demand, how
    segments differ. Each relation is a property of the behaviour model, not of any one number."""
    url, _ = lisbon_dataset
    with make_engine(url).connect() as conn:
        d = conn.dialect.name
        lead = ("(b.check_in - CAST(b.created_at AS DATE))" if d == "postgresql"
                else "(julianday(b.check_in) - julianday(date(b.created_at)))")
        past = "b.status IN ('CHECKED_OUT','COMPLETED','CHECKED_IN','CANCELLED','NO_SHOW')"

        def cancel_rate(where: str) -> float:
            n, c = conn.execute(sa.text(
                f"SELECT count(*), sum(CASE WHEN b.status = 'CANCELLED' THEN 1 ELSE 0 END) FROM bookings b "
                f"JOIN rate_plans r ON r.id = b.rate_plan_id WHERE {past} AND {where}")).one()
            assert n > 200, where
            return c / n

        # Cancellation rises with lead time, falls with non-refundable terms and with special requests.
        assert cancel_rate(f"{lead} >= 90") > cancel_rate(f"{lead} < 7") + 0.15
        assert cancel_rate("r.code = 'NRF'") < cancel_rate("r.code = 'BAR'") - 0.1
        assert cancel_rate("b.special_requests > 0") < cancel_rate("b.special_requests = 0") - 0.1
        # Groups book furthest ahead; walk-ins on the day.
        avg_lead = dict(conn.execute(sa.text(f"SELECT b.source, avg({lead}) FROM bookings b WHERE {past} "
                                             "GROUP BY b.source")).all())
        assert avg_lead["GROUP"] > avg_lead["OTA_BOOKING_COM"] > avg_lead["CORPORATE"]
        assert avg_lead["WALK_IN"] == 0
        # The resort's August nights cost more than twice its January nights; the city's swing is milder.
        month = "EXTRACT(MONTH FROM b.check_in)" if d == "postgresql" else "CAST(strftime('%m', b.check_in) AS INTEGER)"
        adr = {(slug, int(m)): float(v) for slug, m, v in conn.execute(sa.text(
            f"SELECT p.slug, {month}, avg(b.net_amount / (b.nights * b.rooms)) FROM bookings b JOIN properties p "
            f"ON p.id = b.property_id WHERE {past} GROUP BY p.slug, {month}")).all()}
        assert adr[("algarve", 8)] > 2 * adr[("algarve", 1)]
        assert 1.1 * adr[("lisboa", 1)] < adr[("lisboa", 5)] < 2 * adr[("lisboa", 1)]
        # Corporate guests arrive on weekdays; resort stays are longer than city stays.
        dow = "EXTRACT(DOW FROM b.check_in)" if d == "postgresql" else "CAST(strftime('%w', b.check_in) AS INTEGER)"
        corp_weekend = conn.execute(sa.text(f"SELECT avg(CASE WHEN {dow} IN (5, 6) THEN 1.0 ELSE 0 END) FROM bookings b "
                                            "WHERE b.source = 'CORPORATE'")).scalar()
        assert float(corp_weekend) < 2 / 7
        nights = dict(conn.execute(sa.text("SELECT p.kind, avg(b.nights) FROM bookings b JOIN properties p "
                                           "ON p.id = b.property_id GROUP BY p.kind")).all())
        assert float(nights["RESORT"]) > float(nights["CITY"]) + 0.8
        # Summer resort stays are week-long holidays, winter ones short breaks: the resort fills in summer.
        resort_nights = dict(conn.execute(sa.text(
            f"SELECT {month}, avg(b.nights) FROM bookings b JOIN properties p ON p.id = b.property_id "
            f"WHERE p.slug = 'algarve' GROUP BY {month}")).all())
        assert float(resort_nights[8]) > 1.4 * float(resort_nights[1])
        by_month = occupancy(conn, params_for(conn)["as_of"])["algarve"][2]
        assert by_month["Aug"] > by_month["Jan"] + 0.2


# --- the default profile -------------------------------------------------------------------------------------

def test_default_profile_tier_mix_and_occupancy(default_dataset):
    url, result = default_dataset
    assert result.report.ok
    profile = load_profile(None)
    _assert_tier_mix(url, profile, tolerance=0.05)
    _assert_occupancy(url, profile, tolerance=0.02)
    with make_engine(url).connect() as conn:
        # Members' bookings are a realistic minority of all bookings.
        total, members = conn.execute(sa.text(
            "SELECT count(*), sum(CASE WHEN user_id IN (SELECT user_id FROM loyalty_accounts) THEN 1 ELSE 0 END) "
            "FROM bookings")).one()
        assert 0.005 < members / total < 0.15


def test_realism_command_output_and_fail_under(small_dataset):
    url, _ = small_dataset
    proc = hs("realism", "--database-url", url)
    assert proc.returncode == 0, proc.stderr
    assert "overall" in proc.stdout and "lead_time_days" in proc.stdout and "tier_mix" in proc.stdout
    failing = hs("realism", "--database-url", url, "--fail-under", "0.999")
    assert failing.returncode == 1
    assert failing.stderr.startswith("hotelseed: realism score") and failing.stderr.count("\n") == 1


def test_realism_on_an_empty_database_is_a_one_line_error(empty_db):
    assert hs("migrate", "--database-url", empty_db).returncode == 0
    proc = hs("realism", "--database-url", empty_db)
    assert proc.returncode == 2
    assert proc.stderr == "hotelseed: no bookings to compare: seed the database first (hotelseed master-complete)\n"


def _assert_tier_mix(url: str, profile, tolerance: float) -> None:
    target = profile.members["tier_mix"]
    with make_engine(url).connect() as conn:
        counts = dict(conn.execute(sa.text("SELECT tier, count(*) FROM loyalty_accounts GROUP BY tier")).all())
    total = sum(counts.values())
    assert total > 0
    for tier in TIERS:
        realised = counts.get(tier, 0) / total
        assert abs(realised - target[tier]) <= tolerance, f"{tier}: {realised:.3f} vs target {target[tier]}"


def _assert_occupancy(url: str, profile, tolerance: float) -> None:
    with make_engine(url).connect() as conn:
        occ = occupancy(conn, params_for(conn)["as_of"])  # as-of of the latest seed run
    for prop in profile.properties:
        realised, _, by_month = occ[prop.slug]
        assert abs(realised - prop.occupancy_target) <= tolerance, f"{prop.slug}: {realised:.3f}"
        assert max(by_month.values()) - min(by_month.values()) > 0.05  # a seasonal swing, not a flat line


# --- profiles --------------------------------------------------------------------------------------------

def test_shipped_profile_by_name_and_extends(tmp_path):
    lisbon = load_profile("lisbon-algarve")
    assert lisbon.currency == "EUR" and {p.kind for p in lisbon.properties} == {"CITY", "RESORT"}
    assert lisbon.policies == load_profile(None).policies  # inherited from the default profile
    # A table of shares replaces the base's whole: no Indian OTA in a Portuguese OTA split.
    assert set(lisbon.demand["ota_split"]) == {"OTA_BOOKING_COM", "OTA_EXPEDIA", "OTA_AGODA"}
    resort = {sg.name: sg for sg in lisbon.segments_for("RESORT")}
    city = {sg.name: sg for sg in lisbon.segments_for("CITY")}
    assert resort["online-travel-agency"].los[6] > city["online-travel-agency"].los[6]  # the week-long stay
    child = tmp_path / "child.toml"
    child.write_text('[profile]\nextends = "default"\nname = "child"\n[members]\ncount = 7\n'
                     'tier_mix = { MEMBER = 1.0 }\nchannels = { WEB_DIRECT = 1.0 }\n', encoding="utf-8")
    p = load_profile(child)
    assert p.name == "child" and p.members["count"] == 7 and len(p.properties) == 3


@pytest.mark.parametrize("body, message", [
    ('[profile]\nextends = "nope"\n', "profile.extends 'nope' is not a shipped profile or a file"),
    ('[profile]\nextends = "default"\n[members]\ntier_mix = { GOLDEN = 1.0 }\nchannels = { WEB_DIRECT = 1.0 }\n',
     "members.tier_mix: unknown tier 'GOLDEN'"),
    ('[profile]\nextends = "default"\n[members]\nbehaviour = "tourists"\ntier_mix = { MEMBER = 1.0 }\n'
     'channels = { WEB_DIRECT = 1.0 }\n', "members.behaviour: unknown segment 'tourists'"),
    ('[profile]\nextends = "default"\n[[demand.segments]]\nname = "x"\nshare = 1.0\nchannels = { TELEX = 1.0 }\n'
     'lead_time = [1, 1]\nlos = [1.0]\n', "demand.segments[0] (x).channels: unknown channel 'TELEX'"),
    ('[profile]\nextends = "default"\n[[demand.segments]]\nname = "x"\nshare = 1.0\nchannels = { OTA = 1.0 }\n'
     'lead_time = [1, 1]\nlos = [1.0]\ncancel = 1.5\n', "demand.segments[0] (x).cancel must be a probability in [0, 1]"),
    ('[profile]\nextends = "default"\n[[demand.segments]]\nname = "x"\nshare = { SPA = 1.0 }\nchannels = { OTA = 1.0 }\n'
     'lead_time = [1, 1]\nlos = [1.0]\n', "demand.segments[0] (x).share: unknown property kind 'SPA'"),
])
def test_bad_profiles_are_usage_errors(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(UsageError) as exc:
        load_profile(f)
    assert message in str(exc.value)
    proc = hs("master-complete", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--profile", str(f), "--yes")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr
    assert not (tmp_path / "x.db").exists()


def test_another_groups_profile_is_refused_on_a_seeded_database(empty_db):
    """The catalogue is never wiped: seeding lisbon-algarve over the pod hotels' catalogue is an error that
    names the problem, and the database is left as it was."""
    from conftest import seed

    seed(empty_db, history_months=1, future_months=1, members=10)
    with make_engine(empty_db).connect() as conn:
        before = table_digests(conn)
    proc = hs("master-complete", "--database-url", empty_db, "--profile", "lisbon-algarve", "--yes",
              "--history-months", "1", "--future-months", "1", "--as-of", "2026-11-25")
    assert proc.returncode == 2
    assert proc.stderr == ("hotelseed: this database holds the catalogue of organization podstays; profile "
                           "lisbon-algarve describes 'atlantico': seed it into a fresh database\n")
    with make_engine(empty_db).connect() as conn:
        assert table_digests(conn) == before
