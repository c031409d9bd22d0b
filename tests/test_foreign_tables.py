"""Tables hotelseed does not own (issue 19): an application's table whose foreign key refers to a table a run deletes
from is refused on both engines, in one line naming it, with nothing changed, unless --foreign-references says what
to do; with `cascade` its rows that refer to deleted rows are deleted first, counted and reported. A table that
refers only to the catalogue (never deleted) is no concern. And with --keep-staff a property the run does not plan is
retired only when asked (--retire-unplanned-properties), else named in a warning."""

from __future__ import annotations

import json

import sqlalchemy as sa

from hotelseed.core.db import make_engine
from hotelseed.digest import dataset_digest
from test_cli import SMALL_ARGS, hs
from test_guard import _one_line

APP_TABLES = ("app_sessions", "app_invoices", "app_rooms")
CASCADE = ("--foreign-references", "cascade")


def _seeded(databases, backend: str) -> str:
    url = databases.new(backend)
    r = hs("master-complete", "--database-url", url, "--quiet", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    return url


def _add_app_tables(url: str) -> None:
    """app_sessions → users ON DELETE CASCADE (5 sessions of guests the run deletes, 1 of the superadmin it keeps),
    app_invoices → bookings (NO ACTION, 3 rows), app_rooms → properties and rooms (catalogue, 2 rows)."""
    engine = make_engine(url)
    uuid = "uuid" if engine.dialect.name == "postgresql" else "CHAR(32)"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE app_sessions (id INTEGER PRIMARY KEY, "
                             f"user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE)")
        conn.exec_driver_sql("CREATE TABLE app_invoices (id INTEGER PRIMARY KEY, booking_id BIGINT REFERENCES bookings (id))")
        conn.exec_driver_sql("CREATE TABLE app_rooms (id INTEGER PRIMARY KEY, property_id BIGINT REFERENCES "
                             "properties (id) ON DELETE CASCADE, room_id BIGINT REFERENCES rooms (id))")
        _add_sessions(conn, 5)
        superadmin = conn.exec_driver_sql("SELECT user_id FROM user_roles WHERE role_key = 'SUPERADMIN'").scalar_one()
        conn.execute(sa.text("INSERT INTO app_sessions (id, user_id) VALUES (100, :u)"), {"u": superadmin})
        for i, booking in enumerate(conn.exec_driver_sql("SELECT id FROM bookings ORDER BY id LIMIT 3").scalars()):
            conn.execute(sa.text("INSERT INTO app_invoices (id, booking_id) VALUES (:i, :b)"), {"i": i, "b": booking})
        for i, (prop, room) in enumerate(conn.exec_driver_sql("SELECT property_id, id FROM rooms ORDER BY id LIMIT 2")):
            conn.execute(sa.text("INSERT INTO app_rooms (id, property_id, room_id) VALUES (:i, :p, :r)"),
                         {"i": i, "p": prop, "r": room})


def _add_sessions(conn, n: int) -> None:
    guests = conn.exec_driver_sql("SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id "
                                  f"WHERE r.role_key = 'GUEST' ORDER BY u.id LIMIT {n}").scalars().all()
    for i, user in enumerate(guests):
        conn.execute(sa.text("INSERT INTO app_sessions (id, user_id) VALUES (:i, :u)"), {"i": i, "u": user})


def _state(url: str) -> tuple[str, dict[str, int]]:
    """The dataset's digest and the rows of each application table."""
    with make_engine(url).connect() as conn:
        return dataset_digest(conn), {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in APP_TABLES}


def test_foreign_keys_into_deleted_tables_are_refused_naming_them(databases, backend):
    """Every command that deletes refuses (exit 2, one line naming the referring tables and the option) before
    anything changes: the dataset and the application's rows are as they were. The catalogue's table is not named."""
    url = _seeded(databases, backend)
    _add_app_tables(url)
    before = _state(url)
    commands = [["master-complete", *SMALL_ARGS], ["master-complete", "--dry-run", *SMALL_ARGS], ["cleanup"],
                ["cleanup", "--dry-run"]]
    if backend == "postgresql":
        commands.append(["shard", "prepare", "--shards", "2", *SMALL_ARGS])
    for command in commands:
        r = hs(*command, "--database-url", url, "--yes")
        line = _one_line(r)
        assert r.returncode == 2, (command, line)
        assert "app_sessions(user_id) -> users ON DELETE CASCADE" in line and "app_invoices(booking_id) -> bookings" in line, line
        assert "app_rooms" not in line and "--foreign-references cascade" in line, line
    assert _state(url) == before


def test_cascade_deletes_the_referring_rows_and_reports_them(databases, backend):
    """With --foreign-references cascade the dry run counts the application's rows that would go, the seed deletes
    exactly those (the superadmin's session and the catalogue's rows stay) and reports them, verification passes;
    cleanup does the same. Without application tables referring to deleted ones, no option is needed."""
    url = _seeded(databases, backend)
    _add_app_tables(url)
    before = _state(url)
    r = hs("master-complete", "--database-url", url, "--dry-run", "--json", *CASCADE, *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    would = json.loads(r.stdout)["would_delete"]
    assert would["app_sessions (not hotelseed's)"] == 5 and would["app_invoices (not hotelseed's)"] == 3, would
    assert _state(url) == before

    r = hs("master-complete", "--database-url", url, "--yes", "--json", *CASCADE, *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["foreign_rows_deleted"] == {"app_sessions": 5, "app_invoices": 3}
    assert _state(url)[1] == {"app_sessions": 1, "app_invoices": 0, "app_rooms": 2}
    assert hs("verify", "--database-url", url).returncode == 0

    with make_engine(url).begin() as conn:
        _add_sessions(conn, 2)
    r = hs("cleanup", "--database-url", url, "--yes", "--json", *CASCADE)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["app_sessions (not hotelseed's)"] == 2
    assert _state(url)[1] == {"app_sessions": 1, "app_invoices": 0, "app_rooms": 2}

    with make_engine(url).begin() as conn:  # left: a table that refers only to the catalogue
        conn.exec_driver_sql("DROP TABLE app_sessions")
        conn.exec_driver_sql("DROP TABLE app_invoices")
    r = hs("master-complete", "--database-url", url, "--yes", "--quiet", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    with make_engine(url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM app_rooms").scalar() == 2


def _status(url: str) -> dict[str, str]:
    with make_engine(url).connect() as conn:
        return dict(conn.exec_driver_sql("SELECT slug, status FROM properties ORDER BY id").all())


def test_unplanned_property_is_retired_only_when_asked(databases, backend):
    """Three properties seeded, two planned. With --keep-staff the third keeps its staff and stays active, and the
    run warns in one line naming the option; --retire-unplanned-properties marks it INACTIVE in the same
    transaction (reported), and verification passes."""
    url = _seeded(databases, backend)
    third = list(_status(url))[2]
    r = hs("master-complete", "--database-url", url, "--yes", "--quiet", "--keep-staff", "--properties", "2", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    line = _one_line(r)
    assert line.startswith("hotelseed: warning: 1 active property this run does not seed") and third in line, line
    assert "--retire-unplanned-properties" in line and _status(url)[third] == "ACTIVE"

    r = hs("master-complete", "--database-url", url, "--dry-run", "--json", "--properties", "2",
           "--retire-unplanned-properties", *SMALL_ARGS)
    assert r.returncode == 0 and json.loads(r.stdout)["would_retire"] == [third], r.stderr
    assert _status(url)[third] == "ACTIVE"
    r = hs("master-complete", "--database-url", url, "--yes", "--json", "--properties", "2",
           "--retire-unplanned-properties", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["retired_properties"] == [third] and _status(url)[third] == "INACTIVE"
    assert hs("verify", "--database-url", url).returncode == 0
    r = hs("master-complete", "--database-url", url, "--yes", "--quiet", "--properties", "2", *SMALL_ARGS)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr  # nothing unplanned is active any more


def test_library_seed_takes_the_same_choice(databases, backend):
    """`seed()` refuses the same way (DatabaseStateError, nothing changed) and cascades when told, as the CLI does."""
    import pytest

    from hotelseed import seed
    from hotelseed.core.errors import DatabaseStateError, UsageError

    url = _seeded(databases, backend)
    _add_app_tables(url)
    before = _state(url)
    small = dict(as_of="2026-11-25", history_months=2, future_months=1, members=40, yes=True)
    with pytest.raises(DatabaseStateError, match="app_sessions"):
        seed(url, **small)
    with pytest.raises(UsageError, match="foreign_references"):
        seed(url, foreign_references="delete", **small)
    assert _state(url) == before
    seed(url, foreign_references="cascade", **small)
    assert _state(url)[1] == {"app_sessions": 1, "app_invoices": 0, "app_rooms": 2}
