"""Domain-free core: random streams, ids, the FK-derived cleanup order, schema migrations."""

from __future__ import annotations

import os

import numpy as np
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given, settings, strategies as st

from hotelseed.cleanup import MODULE_TABLES, STEP_OF, delete_order
from hotelseed.core.db import make_engine
from hotelseed.core.ids import scrambled_codes, uuid_for
from hotelseed.core.jit import compiled
from hotelseed.core.rng import Stream, sample_categorical
from hotelseed.models import metadata
from hotelseed.schema_admin import head_revision, migrate, schema_state

from conftest import schema_objects, seed


@given(seed=st.integers(0, 2**62), index=st.lists(st.integers(0, 2**40), min_size=1, max_size=50), slot=st.integers(0, 99))
@settings(max_examples=50, deadline=None)
def test_counter_streams_are_pure_functions_of_index(seed, index, slot):
    s = Stream(seed, ("members",))
    idx = np.array(index, dtype=np.int64)
    u = s.uniform(idx, slot)
    assert ((u >= 0) & (u < 1)).all()
    # the value for one entity does not depend on which other entities are drawn with it
    assert np.array_equal(u[:1], s.uniform(idx[:1], slot))
    assert np.array_equal(u, Stream(seed, ("members",)).uniform(idx, slot))


@given(seconds=st.lists(st.one_of(st.none(), st.integers(-62_135_596_800, 300_000_000_000)), max_size=60),
       unit=st.sampled_from(["s", "ms", "us"]), suffix=st.sampled_from([".000000", "+00"]))
@settings(max_examples=200, deadline=None)
def test_datetime_text_is_numpys_iso_format(seconds, unit, suffix):
    """The loader's vectorised timestamp text (years 1000-9999, NaT as None) is exactly what
    np.datetime_as_string writes, 'T' replaced by a space; other years take that formatter itself."""
    from hotelseed.core.loader import datetime_text

    values = np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "s") for v in seconds],
                      dtype="datetime64[s]").astype(f"datetime64[{unit}]")
    expected = [None if v is None else str(np.datetime64(v, "s")).replace("T", " ") + suffix for v in seconds]
    assert datetime_text(values, suffix) == expected


def test_streams_of_different_paths_differ():
    a, b = Stream(1, ("a",)).uniform(np.arange(1000)), Stream(1, ("b",)).uniform(np.arange(1000))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1 and abs(a.mean() - 0.5) < 0.05


@given(weights=st.lists(st.floats(0.01, 100), min_size=1, max_size=10), u=st.floats(0, 0.999999))
def test_categorical_stays_in_range(weights, u):
    k = sample_categorical(np.array([u]), weights)[0]
    assert 0 <= k < len(weights)


def test_scrambled_codes_are_unique_and_stable():
    ids = np.arange(1, 200_001)
    codes = scrambled_codes(ids, 7)
    assert len(set(codes)) == len(ids)
    assert codes[41] == scrambled_codes(np.array([42]), 7)[0]
    assert uuid_for(1, "user", "x") == uuid_for(1, "user", "x") != uuid_for(2, "user", "x")


def test_cleanup_deletes_children_before_parents():
    order = delete_order()
    assert set(order) == set(MODULE_TABLES) and set(STEP_OF) == set(order)
    position = {t: i for i, t in enumerate(order)}
    for table in order:
        for fk in metadata.tables[table].foreign_keys:
            parent = fk.column.table.name
            if parent in position and parent != table:
                assert position[table] < position[parent], f"{table} must go before {parent}"


def test_migrate_creates_the_schema_at_head_without_drift(empty_db):
    engine = make_engine(empty_db)
    with engine.begin() as conn:
        assert schema_state(conn) == "empty"
        assert "created" in migrate(conn)
    with engine.begin() as conn:
        assert schema_state(conn) == "current"
        assert "already" in migrate(conn)
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
        assert diff == [], diff
        tables = set(sa.inspect(conn).get_table_names())
        assert set(metadata.tables) <= tables


def test_a_seed_leaves_every_index_and_constraint_as_it_found_them(empty_db):
    """Loading drops secondary indexes, exclusion constraints and foreign keys and rebuilds them after the
    data (core/bulk.py): the schema afterwards is exactly the schema before."""
    engine = make_engine(empty_db)
    with engine.begin() as conn:
        migrate(conn)
    with engine.connect() as conn:
        before = schema_objects(conn)
    seed(empty_db, history_months=1, future_months=1, members=10)
    with engine.connect() as conn:
        assert schema_objects(conn) == before
        assert conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar() > 0


def test_check_constraints_are_read_back_from_create_table():
    """SQLite's CHECK constraints come from the table's own SQL: parentheses and quotes inside an expression
    do not end it, and each expression runs as SQL (here, against an in-memory table)."""
    import sqlite3

    from hotelseed.core.bulk import check_constraints

    create = ('CREATE TABLE t (a TEXT, b INT CHECK (b > 0), CONSTRAINT ck_a CHECK (a IN (\'x)\', \'it\'\'s\', "q(")), '
              'CONSTRAINT "ck_f" CHECK (length(a) < (b + 10)))')
    found = check_constraints(create)
    assert found == [("check 1", "b > 0"), ("ck_a", "a IN ('x)', 'it''s', \"q(\")"), ("ck_f", "length(a) < (b + 10)")]
    db = sqlite3.connect(":memory:")
    db.execute(create)
    db.execute("INSERT INTO t VALUES ('x)', 1), ('it''s', 2)")
    assert [db.execute(f"SELECT count(*) FROM t WHERE NOT ({e})").fetchone()[0] for _, e in found] == [0, 0, 0]


def test_check_constraints_set_aside_for_the_load_are_proven_after_it(small_dataset):
    """SQLite loads with its CHECK constraints ignored (core/bulk.py); the rebuild proves them, so a row that
    breaks one still fails the transaction, naming the constraint (PostgreSQL refuses it at once), and the
    connection checks again afterwards, whether the load ended well or in an error."""
    import sqlite3

    import pytest

    from hotelseed.core.bulk import deferred_constraints

    url, _ = small_dataset
    breaks = sa.text("UPDATE hold_logs SET check_out = check_in WHERE id = (SELECT min(id) FROM hold_logs)")
    with make_engine(url).connect() as conn:
        with conn.begin():
            with pytest.raises((sa.exc.IntegrityError, sqlite3.IntegrityError), match="ck_hold_logs_dates"):
                with deferred_constraints(conn, ["hold_logs"]):
                    assert conn.execute(breaks).rowcount == 1  # SQLite: accepted while the checks are aside
            conn.rollback()
        with conn.begin():
            with pytest.raises(RuntimeError):
                with deferred_constraints(conn, ["hold_logs"]):
                    raise RuntimeError("the load failed")
            conn.rollback()
        with conn.begin():
            with pytest.raises(sa.exc.IntegrityError, match="ck_hold_logs_dates"):
                conn.execute(breaks)
            conn.rollback()


def test_deferred_constraints_still_refuse_bad_data(empty_db):
    """A row that breaks a foreign key is accepted while the load runs without them (PostgreSQL: the constraint
    is dropped; SQLite: the transaction does not enforce them) and refused when they are rebuilt (SQLite: proven by
    PRAGMA foreign_key_check), naming what broke; the transaction leaves nothing behind: not the row, not a missing
    constraint, not a connection that no longer enforces them."""
    import sqlite3

    from hotelseed.core.bulk import deferred_constraints
    from hotelseed.core.db import guarded_transaction
    from hotelseed.core.errors import DatabaseStateError

    engine = make_engine(empty_db)
    with engine.begin() as conn:
        migrate(conn)
    with engine.connect() as conn:
        before = schema_objects(conn)
    accepted = False
    try:
        with guarded_transaction(engine, sqlite_foreign_keys=False) as conn:
            with deferred_constraints(conn, ["hold_logs"]):
                conn.execute(sa.text(
                    "INSERT INTO hold_logs (id, booking_id, hold_token, property_id, room_type_id, check_in, "
                    "check_out, rooms, guests, status, created_at, expires_at) VALUES (1, 999, 'h', 1, 1, "
                    "'2026-01-01', '2026-01-02', 1, 1, 'ACTIVE', '2026-01-01 00:00:00', '2026-01-01 00:15:00')"))
                accepted = True
            conn.commit()
    except (sa.exc.IntegrityError, sqlite3.IntegrityError, DatabaseStateError) as exc:
        refused = str(exc)
    else:
        refused = ""
    assert accepted
    assert "hold_logs" in refused if engine.dialect.name == "sqlite" else "fk_hold_logs" in refused
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hold_logs")).scalar() == 0
        assert schema_objects(conn) == before
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_batches_stream_every_row_once_inside_the_transaction(small_dataset):
    """Checks that read a whole table go through it in batches (a server-side cursor on PostgreSQL): every row
    once, in batches no larger than asked, two readers open at once, and rows the transaction wrote itself."""
    from hotelseed.core.checks import batches, fetch, int_batches

    url, _ = small_dataset
    with make_engine(url).connect() as conn:
        with conn.begin() as tx:
            conn.execute(sa.text("UPDATE stays SET num_guests = num_guests + 100 WHERE id = (SELECT min(id) FROM stays)"))
            want = fetch(conn, "SELECT id, num_guests FROM stays ORDER BY id")
            got, sizes = [], []
            outer = batches(conn, "SELECT id, num_guests FROM stays ORDER BY id", size=97)
            inner = int_batches(conn, "SELECT id, num_guests FROM stays WHERE id > :after ORDER BY id", {"after": 0}, size=50)
            for rows, ints_ in zip(outer, inner):
                sizes.append(len(rows))
                got += rows
                assert ints_.dtype == np.int64 and ints_.shape[1] == 2 and len(ints_) <= 50
            got += [row for rows in outer for row in rows]
            inner.close()  # a reader left before its end closes its cursor, inside the transaction
            assert [tuple(r) for r in got] == [tuple(r) for r in want] and len(want) > 97
            assert max(sizes) == 97 and max(n for _, n in got) > 100
            assert sum(len(b) for b in int_batches(conn, "SELECT id FROM stays WHERE id < 0")) == 0
            tx.rollback()


def test_without_a_cache_location_compiled_code_still_compiles():
    """Numba cannot cache a function whose source is no file (as when no cache directory is writable: the decorator
    raises); `compiled` then compiles without a cache instead of failing the import."""
    import numba

    namespace: dict = {}
    exec(compile("def twice(x):\n    return 2 * x\n", "<no file>", "exec"), namespace)
    try:
        numba.njit(cache=True)(namespace["twice"])
        raised = False
    except RuntimeError:
        raised = True
    assert raised, "numba cached a function with no source file: this test no longer tests the fallback"
    assert compiled(namespace["twice"])(21) == 42


def test_warm_up_loads_the_machine_code_that_real_calls_use():
    """jit.warm_up runs before workers fork so that they share the compiled code: useless unless the registered
    examples have the argument types of the real calls (else each worker compiles or loads another version)."""
    import uuid as uuid_module

    from hotelseed.core import jit, pgbinary
    from hotelseed.modules.bookings import allocate
    from hotelseed.modules.bookings.generate import NEVER

    jit.warm_up()
    assert not jit._EXAMPLES
    kernels = (allocate._events, pgbinary._write_tuples)
    assert all(len(k.signatures) == 1 for k in kernels)
    allocate.allocate(5, 100, np.array([0, 1, 1]), np.array([1, 0]), np.array([1, 2]), np.array([101, 102]),
                      np.array([2, 1]), np.array([1, 0]), np.array([1, 1]), np.array([10, 20]),
                      np.array([NEVER, 30]), np.array([0.2, 0.7]), 2, np.array([False, True]))
    pgbinary.tuples([pgbinary.integer(np.array([1, 2]), 4), pgbinary.text(np.array(["a", None], dtype=object)),
                     pgbinary.uuid_field(np.array([uuid_module.uuid4(), None], dtype=object)),
                     pgbinary.numeric(np.array([150, -3]), 2),
                     pgbinary.timestamp(np.array(["2026-01-01T00:00:00", "NaT"], dtype="datetime64[s]"))])
    assert all(len(k.signatures) == 1 for k in kernels), [k.signatures for k in kernels]


def test_spool_directories_of_killed_runs_are_swept(tmp_path):
    """A run killed with SIGKILL cannot remove its spool directory; the next run removes it (its process is
    gone), but never a running process's directory nor anything not named like one."""
    import signal
    import subprocess
    import sys

    from hotelseed.core.pipeline import sweep_abandoned_spools

    child = ("import os, signal, sys, tempfile, time\n"
             "tempfile.tempdir = sys.argv[1]\n"
             "from hotelseed.core.pipeline import spool_directory\n"
             "spool = spool_directory(1)\n"
             "path = spool.__enter__()\n"
             "open(os.path.join(path, 'partition-1.spool'), 'wb').write(b'x' * 1000)\n"
             "print(path, flush=True)\n"
             "os.kill(os.getpid(), signal.SIGKILL) if sys.argv[2] == 'die' else time.sleep(120)\n")
    running = subprocess.Popen([sys.executable, "-c", child, str(tmp_path), "live"], stdout=subprocess.PIPE, text=True)
    try:
        live_spool = running.stdout.readline().strip()
        # (this run sweeps too, on its way in: the running process's directory stays)
        killed = subprocess.run([sys.executable, "-c", child, str(tmp_path), "die"], capture_output=True, text=True)
        assert killed.returncode == -signal.SIGKILL
        dead_spool = killed.stdout.strip()
        other = tmp_path / "hotelseed-spool-notes"
        other.mkdir()
        assert {p.name for p in tmp_path.iterdir()} >= {os.path.basename(dead_spool), os.path.basename(live_spool)}
        assert sweep_abandoned_spools(str(tmp_path)) == [dead_spool]
        assert not os.path.exists(dead_spool)
        assert os.path.isfile(os.path.join(live_spool, "partition-1.spool")) and other.is_dir()
    finally:
        running.kill()
        running.wait()
