"""Bad input (issue 19, findings 6, 7 and the minor ones): every user mistake is exit 2 with one line naming it,
and the database is left as it was: as-of out of range, a read-only database, control characters in a profile,
another application's Alembic database, size settings that would be ignored or are beyond what a run can do."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import seed
from hotelseed.core.db import make_engine
from hotelseed.core.errors import UsageError
from hotelseed.plan import Options, make_plan, parse_as_of
from hotelseed.profile import default_profile_path, is_reserved_domain, load_profile
from test_cli import SMALL_ARGS, hs
from test_guard import _one_line, _unchanged, seeded  # noqa: F401 (seeded is a fixture)


def _tables(url: str) -> list[str]:
    with make_engine(url).connect() as conn:
        return sorted(sa.inspect(conn).get_table_names())


def _profile(tmp_path, old: str, new: str, name: str = "edited.toml") -> str:
    text = default_profile_path().read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return str(path)


@pytest.mark.parametrize("text", ["1900-01-01", "9999-12-31", "0001-01-01", "2100-12-31", "1999-12-31",
                                  "2100-01-01T00:00:00", "9999-12-31T23:00-05:00", "0001-01-01T01:00+05:00"])
def test_as_of_outside_the_range_is_a_usage_error(text):
    with pytest.raises(UsageError, match="2000-01-01 and 2099-12-31"):
        parse_as_of(text)


def test_as_of_range_edges_seed_and_verify(empty_db):
    """The first and last as-of with the longest history and future: every timestamp representable, every check
    passing (history before the profile's first tax table included)."""
    for as_of, history, future in (("2000-01-01", 240, 1), ("2099-12-31T23:59:59", 1, 36)):
        result = seed(empty_db, as_of=parse_as_of(as_of), history_months=history, future_months=future,
                      properties=1, rooms_per_property=3, members=10)
        assert result.report.ok and result.rows_written > 0, as_of


def test_as_of_out_of_range_on_the_command_line(seeded):
    url, digest = seeded
    for text in ("1900-01-01", "2100-12-31"):
        r = hs("master-complete", "--database-url", url, "--yes", "--as-of", text)
        assert r.returncode == 2 and "2099-12-31" in _one_line(r), r.stderr
    assert _unchanged(url, digest)


def test_read_only_database_is_refused_before_writing(empty_db, backend):
    if backend == "sqlite":  # root ignores file modes: open it read-only as SQLite's URI does for anyone
        path = make_engine(empty_db).url.database
        open(path, "wb").close()
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
        word = path
    else:
        name = make_engine(empty_db).url.database
        with make_engine(empty_db).connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            conn.commit()
        url, word = empty_db, "read-only"
    for args in (["master-complete", "--yes", *SMALL_ARGS], ["migrate"], ["cleanup", "--yes"]):
        r = hs(*args, "--database-url", url)
        assert r.returncode == 2 and word in _one_line(r) and "unexpected" not in r.stderr, (args, r.stderr)
    assert _tables(empty_db) == []


@pytest.mark.parametrize("old,new,key", [
    ('name = "pod-stays-jamshedpur"', 'name = "pod\\u0000stays"', "profile.name"),
    ('name = "Pod Stays Hospitality Pvt Ltd"', 'name = "Pod\\u0007Stays"', "organization.name"),
    ('code = "CAPSULE"', 'code = "CAP\\u001bSULE"', "properties[0].room_types[0].code"),
])
def test_control_characters_in_a_profile(tmp_path, empty_db, old, new, key):
    """PostgreSQL text cannot hold NUL; no name or code can sensibly hold a control character: a usage error
    naming the key, before the database is touched, on either engine."""
    r = hs("master-complete", "--profile", _profile(tmp_path, old, new), "--database-url", empty_db, "--yes",
           *SMALL_ARGS)
    line = _one_line(r)
    assert r.returncode == 2 and key in line and "control character" in line, r.stderr
    assert _tables(empty_db) == []


def test_another_applications_alembic_database(empty_db):
    """An alembic_version at a revision none of hotelseed's: refused as another application's, nothing touched
    (before, it was taken for hotelseed's schema and Alembic failed: "Can't locate revision")."""
    with make_engine(empty_db).begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('9f3c2a1b7d42')"))
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))
    for args in (["master-complete", "--yes", *SMALL_ARGS], ["migrate"], ["verify"], ["cleanup", "--yes"]):
        r = hs(*args, "--database-url", empty_db)
        line = _one_line(r)
        assert r.returncode == 2 and "another application" in line and "9f3c2a1b7d42" in line, (args, r.stderr)
    assert _tables(empty_db) == ["alembic_version", "customers"]
    with make_engine(empty_db).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "9f3c2a1b7d42"


def test_room_counts_of_an_existing_catalogue_are_not_silently_ignored(seeded, tmp_path):
    """The catalogue is never wiped, so its room counts win: a run asking for others is refused, saying so."""
    url, digest = seeded
    r = hs("master-complete", "--database-url", url, "--yes", *SMALL_ARGS, "--rooms-per-property", "1")
    line = _one_line(r)
    assert r.returncode == 2 and "--rooms-per-property 1" in line and "fresh database" in line, r.stderr
    edited = _profile(tmp_path, 'name = "Capsule Pod", count = 40', 'name = "Capsule Pod", count = 30')
    r = hs("master-complete", "--database-url", url, "--yes", *SMALL_ARGS, "--profile", edited)
    line = _one_line(r)
    assert r.returncode == 2 and "CAPSULE: 40" in line and "CAPSULE: 30" in line, r.stderr
    r = hs("master-complete", "--database-url", url, "--dry-run", "--quiet", *SMALL_ARGS, "--properties", "4")
    assert r.returncode == 0, r.stderr  # a property added keeps applying: only existing room types are fixed
    assert _unchanged(url, digest)


@pytest.mark.parametrize("old,new,words", [
    ('name = "Capsule Pod", count = 40', 'name = "Capsule Pod", count = 400000000', "count must be a whole number from 1 to 5,000"),
    ('name = "Capsule Pod", count = 40', 'name = "Capsule Pod", count = 4990', "at most 5,000"),
    ("STAFF_FRONTDESK = 3", "STAFF_FRONTDESK = 100000", "STAFF_FRONTDESK must be a whole number from 0 to 100"),
    ("STAFF_OPS = 2", "STAFF_OPS = 0", "1 STAFF_OPS"),
    ("admins = 2", "admins = 5000000", "staff.admins"),
    ("count = 120", "count = 50000000", "members.count"),
    ("max_lead = 540", "max_lead = 100000", "max_lead must be from 1 to 730"),
])
def test_profile_sizes_are_bounded(tmp_path, old, new, words):
    path = tmp_path / "big.toml"
    base = default_profile_path().read_text()
    if old not in base:  # max_lead is set by the Lisbon profile only
        base = (default_profile_path().parent / "lisbon-algarve.toml").read_text()
    path.write_text(base.replace(old, new, 1))
    r = hs("master-complete", "--profile", str(path), "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--yes",
           *SMALL_ARGS)
    assert r.returncode == 2 and words in _one_line(r), r.stderr
    assert not (tmp_path / "x.db").exists()


def test_run_sizes_are_bounded_in_room_months():
    base = load_profile(None)
    as_of = parse_as_of("2026-11-25")
    make_plan(Options(as_of=as_of, properties=100), base)  # --scale xlarge: 5,700 rooms over 42 months
    make_plan(Options(as_of=as_of, rooms_per_property=2_000), base)  # a large hotel: 84,000 room-months
    with pytest.raises(UsageError, match="one property may have at most 100,000"):
        make_plan(Options(as_of=as_of, rooms_per_property=5_000), base)
    with pytest.raises(UsageError, match="one run may have at most 2,500,000"):
        make_plan(Options(as_of=as_of, properties=10_000), base)


def test_empty_profile_name_is_not_the_default(seeded):
    url, digest = seeded
    for command in (["master-complete", "--yes", *SMALL_ARGS], ["verify"]):
        r = hs(*command, "--database-url", url, "--profile", "")
        assert r.returncode == 2 and "--profile is empty" in _one_line(r), r.stderr
    assert _unchanged(url, digest)


def test_no_arguments_prints_the_usage_and_no_empty_error_line():
    r = hs()
    assert r.returncode == 2 and "Usage" in r.stdout + r.stderr
    assert "hotelseed: " not in r.stderr, r.stderr


def test_localhost_is_not_a_reserved_mail_domain(tmp_path):
    """.localhost is reserved (RFC 6761) but resolves to this machine, whose mail server could deliver."""
    assert not is_reserved_domain("localhost") and not is_reserved_domain("mail.localhost")
    assert is_reserved_domain("example.com") and is_reserved_domain("guests.test")
    path = _profile(tmp_path, 'staff_email_domain = "podstays.example"', 'staff_email_domain = "localhost"')
    r = hs("master-complete", "--profile", path, "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--yes",
           *SMALL_ARGS)
    assert r.returncode == 2 and "'localhost' is not reserved" in _one_line(r), r.stderr
