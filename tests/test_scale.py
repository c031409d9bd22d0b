"""Issue 5: partitions, shards, workers, export, size knobs and the binary COPY encoder, on real databases.

The union of the shards is the single-process run, row for row: loaded by three "machines" into one
PostgreSQL database (shard prepare / load / finish) and written as files (export --shard), compared by the
engine-independent content digest. Speed and memory are measured by bench/, never here.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import psycopg
import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from conftest import AS_OF, SMALL, YES, schema_objects, seed
from test_cli import hs
from hotelseed import dataset
from hotelseed.core import pgbinary
from hotelseed.core.db import make_engine
from hotelseed.core.errors import DatabaseStateError, UsageError
from hotelseed.core.partition import STRIDE, Shard
from hotelseed.digest import digest_rows, table_digests
from hotelseed.export import export
from hotelseed.models import metadata
from hotelseed.plan import Options, SCALES, make_plan, scale_options
from hotelseed.profile import load_profile, scaled
from hotelseed import shards

SMALL_ARGS = ["--as-of", "2026-11-25", "--history-months", "6", "--future-months", "2", "--members", "120"]


def _options(**extra) -> Options:
    return Options(**{**SMALL, **extra})


_single: dict[str, tuple] = {}


def _single_run(databases, backend: str):
    """The single-process run every comparison here is against (one per engine, shared)."""
    if backend not in _single:
        url = databases.new(backend)
        seed(url)
        with make_engine(url).connect() as conn:
            _single[backend] = (url, table_digests(conn))
    return _single[backend]


def test_shards_loaded_by_three_machines_are_the_single_run(databases):
    """prepare, then shards 2, 0, 1 (any order), then finish: the same rows as one process, and the schema whole."""
    single_url, single = _single_run(databases, "postgresql")
    url = databases.new("postgresql")
    engine = make_engine(url)
    shards.prepare(engine, _options(), 3, YES)
    # Between prepare and finish nothing else may write: the indexes and constraints are set aside.
    with pytest.raises(DatabaseStateError, match="sharded load"):
        seed(url)
    for i in (2, 0):
        shards.load(engine, Shard(i, 3), workers=0)
    with pytest.raises(DatabaseStateError, match="already loaded"):
        shards.load(engine, Shard(0, 3), workers=0)
    with pytest.raises(DatabaseStateError, match="not loaded yet: 1/3"):
        shards.finish(engine)
    with pytest.raises(UsageError, match="4 shards|3 shards"):
        shards.load(engine, Shard(1, 4), workers=0)
    shards.load(engine, Shard(1, 3), workers=2)
    report = shards.finish(engine)
    assert report.ok and len(report.outcomes) > 40
    with engine.connect() as conn:
        assert table_digests(conn) == single
        mine = schema_objects(conn)
    with make_engine(single_url).connect() as conn:
        assert mine == schema_objects(conn)  # every index and constraint is back, validated
    seed(url)  # and the database takes ordinary runs again


def test_abandoned_shard_load_leaves_an_empty_whole_schema(databases):
    url = databases.new("postgresql")
    engine = make_engine(url)
    seed(url)
    with engine.connect() as conn:
        before = schema_objects(conn)
    shards.prepare(engine, _options(seed=5), 2, YES)
    shards.load(engine, Shard(1, 2), workers=0)
    shards.abandon(engine)
    with engine.connect() as conn:
        assert schema_objects(conn) == before
        assert conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar() == 0
    with pytest.raises(DatabaseStateError, match="no sharded load"):
        shards.finish(engine)


def test_sharded_load_needs_postgresql(databases):
    with pytest.raises(UsageError, match="PostgreSQL"):
        shards.prepare(make_engine(databases.new("sqlite")), _options(), 2, YES)


def _export_digests(out) -> dict[str, str]:
    digests = {}
    for table in metadata.sorted_tables:
        if (out / table.name).is_dir():
            t = ds.dataset(out / table.name, format="parquet").to_table()
            rows = zip(*[t.column(c.name).to_pylist() for c in table.columns])
            digests[table.name] = digest_rows(table, rows)
    return digests


def test_export_shards_union_is_the_whole_and_the_database(databases, tmp_path):
    """Files, without a database: the union of three shards' parts is the whole export, which holds exactly the
    rows master-complete puts in a database (catalogue included)."""
    _url, single = _single_run(databases, "sqlite")
    whole = tmp_path / "whole"
    rows = export(_options(), whole, "parquet", Shard(), workers=0)
    parts = tmp_path / "parts"
    for i in range(3):
        export(_options(), parts, "parquet", Shard(i, 3), workers=1)
    assert {p.name for p in (parts / "bookings").iterdir()} == {f"part-{i}-of-3.parquet" for i in range(3)}
    assert {p.name for p in (parts / "organizations").iterdir()} == {"part-0-of-3.parquet"}  # shard 0's
    union = _export_digests(parts)
    assert union == _export_digests(whole)
    assert union == {k: v for k, v in single.items() if k in union}
    assert set(single) - set(union) <= {t for t, n in rows.items() if n == 0}  # only empty tables have no file
    assert rows["bookings"] > 10_000


def test_export_csv(tmp_path):
    out = tmp_path / "csv"
    rows = hs("export", "--out", str(out), "--format", "csv", "--quiet", *SMALL_ARGS)
    assert rows.returncode == 0, rows.stderr
    text = (out / "bookings" / "part-0-of-1.csv").read_text().splitlines()
    header = text[0].split(",")
    assert header[:2] == ['"id"', '"confirmation_number"'] and len(text) > 10_000
    assert text[1].count("Z") >= 1  # timestamps as ISO 8601 UTC
    again = hs("export", "--out", str(out), "--format", "csv", "--quiet", *SMALL_ARGS)
    assert again.returncode == 2 and "already holds" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_workers_do_not_change_the_data(databases):
    """Generated in this process, or by two worker processes beside the loader: the same rows."""
    _url, single = _single_run(databases, "sqlite")
    url = databases.new("sqlite")
    from hotelseed.master import master_complete

    master_complete(make_engine(url), _options(), consent=YES, workers=0)
    with make_engine(url).connect() as conn:
        assert table_digests(conn) == single


def test_ids_are_partitioned(small_dataset):
    """Every property-partition row carries an id of its property's partition; members' bookings are numbered
    by member and trip; the group's rows sit below the first property's partition."""
    url, _ = small_dataset
    with make_engine(url).connect() as conn:
        bad = conn.execute(sa.text(
            f"SELECT count(*) FROM bookings WHERE (loyalty_account_id IS NULL AND user_id IS NULL OR id >= {STRIDE}) "
            f"AND (id / {STRIDE} <> property_id)")).scalar()
        assert bad == 0
        for table in ("stays", "payments", "booking_audit_logs", "inventories", "threads"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE id / {STRIDE} <> property_id"
                                        if table in ("stays", "inventories", "threads") else
                                        f"SELECT count(*) FROM {table} x JOIN bookings b ON b.id = x.booking_id "
                                        f"WHERE x.id / {STRIDE} <> b.property_id")).scalar() == 0, table
        assert conn.execute(sa.text("SELECT max(id) FROM loyalty_accounts")).scalar() < STRIDE
        member_bookings = conn.execute(sa.text(
            f"SELECT count(*) FROM bookings WHERE id < {STRIDE} AND loyalty_account_id IS NULL "
            "AND user_id NOT IN (SELECT user_id FROM loyalty_accounts)")).scalar()
        assert member_bookings == 0


def test_group_and_property_partitions_write_what_they_declare():
    """dataset.GROUP_TABLES and PROPERTY_TABLES (which decide the load order) are what the generators write."""
    from hotelseed.modules.identity.generate import generate_staff
    from hotelseed.modules.properties.catalogue import ensure_catalogue, read_world

    plan = make_plan(_options(), load_profile(None))
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    with engine.begin() as conn:
        metadata.create_all(conn)
        ensure_catalogue(conn, plan.profile)
        world = read_world(conn, plan.profile)
    staff_users, staff = generate_staff(plan, world, [], False, 1, 1)
    ctx = dataset.prepare(plan, world, staff, 1)
    group = dataset.group_partition(ctx, staff_users, 100)
    prop = dataset.property_partition(ctx, 0)
    assert {n for n, c in group.items() if len(c)} <= dataset.GROUP_TABLES
    assert {n for n, c in prop.items() if len(c)} == dataset.PROPERTY_TABLES
    assert "points_ledger" in dataset.late_group_tables() and "loyalty_accounts" not in dataset.late_group_tables()


def test_size_knobs():
    base = load_profile(None)
    assert len(base.properties) == 3
    big = scaled(base, properties=8, rooms_per_property=20)
    slugs = [p.slug for p in big.properties]
    assert slugs[:4] == [p.slug for p in base.properties] + [base.properties[0].slug + "-2"]
    assert len(set(slugs)) == 8 and len({p.code for p in big.properties}) == 8
    assert all(abs(p.rooms - 20) <= len(p.room_types) for p in big.properties)
    assert scale_options("xlarge", members=7) == {**SCALES["xlarge"], "members": 7}
    plan = make_plan(Options(as_of=AS_OF, properties=10), base)
    assert len(plan.profile.properties) == 10 and plan.members == 400  # members scale with properties
    with pytest.raises(UsageError):
        scale_options("huge")
    with pytest.raises(UsageError):
        make_plan(Options(as_of=AS_OF, members=1_000_000), base)


def test_scale_flags_are_checked_before_anything(tmp_path):
    for args, words in ((["--scale", "huge"], "--scale"), (["--years", "2", "--history-months", "6"], "not both"),
                        (["--properties", "0"], "properties")):
        r = hs("master-complete", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--yes", *args)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "x.db").exists()


def test_more_properties_seed_and_verify(databases):
    url = databases.new("sqlite")
    result = seed(url, properties=4, rooms_per_property=30, history_months=3, future_months=1, members=40)
    assert result.report.ok
    with make_engine(url).connect() as conn:
        per = dict(conn.execute(sa.text("SELECT p.slug, count(*) FROM bookings b JOIN properties p "
                                        "ON p.id = b.property_id GROUP BY p.slug")).all())
        rooms = dict(conn.execute(sa.text("SELECT p.slug, count(*) FROM rooms r JOIN properties p "
                                          "ON p.id = r.property_id GROUP BY p.slug")).all())
    assert len(per) == 4 and all(n > 100 for n in per.values())
    assert all(abs(n - 30) <= 4 for n in rooms.values())


def test_module_tables_are_loaded_frozen(databases):
    """The module tables are truncated and loaded in one transaction, so COPY writes their rows frozen and every
    page all-visible: after COMMIT nothing is left for hint bits or the first VACUUM to rewrite."""
    from hotelseed.cleanup import MODULE_TABLES

    url, _digests = _single_run(databases, "postgresql")
    with make_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_visibility"))
        pages = {t: conn.execute(sa.text(f"SELECT pg_relation_size('{t}') / current_setting('block_size')::int, "
                                         f"(SELECT all_frozen FROM pg_visibility_map_summary('{t}'))")).one()
                 for t in sorted(MODULE_TABLES)}
    assert sum(total for total, _ in pages.values()) > 1000
    assert {t: p for t, p in pages.items() if p[0] != p[1]} == {}


def test_binary_copy_encoder_round_trips(databases):
    """Every type the schema uses, with NULLs, negatives, non-ASCII text and JSON, through PostgreSQL's COPY."""
    url = databases.new("postgresql")
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    ids = [uuid.uuid4() for _ in range(4)]
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE t (a int2, b int4, c int8, d bool, e text, f uuid, g timestamptz, h date, "
                     "i numeric(12,2), j numeric(5,2), k jsonb, l text, m uuid, n text)")
        fields = [pgbinary.integer(np.array([-32768, 0, 7, 32767]), 2),
                  pgbinary.integer(np.array([-1, 0, 2**31 - 1, 5]), 4),
                  pgbinary.integer(np.array([-(2**62), 0, 1, 2**62], dtype=np.int64), 8),
                  pgbinary.boolean(np.array([True, None, False, True], dtype=object)),
                  pgbinary.text(np.array(["plain", None, "Zoë\tO'Brien\n", ""], dtype=object)),
                  pgbinary.uuid_field(np.array(ids[:3] + [None], dtype=object)),
                  pgbinary.timestamp(np.array(["2026-11-25T12:00:00", "NaT", "1999-12-31T23:59:59",
                                               "2000-01-01T00:00:00"], dtype="datetime64[s]")),
                  pgbinary.date(np.array(["2024-02-29", "1970-01-01", "NaT", "2000-01-01"], dtype="datetime64[D]")),
                  pgbinary.numeric(np.array([0, -5, 123456789012, 100], dtype=np.int64), 2,
                                   np.array([False, False, False, True])),
                  pgbinary.numeric(np.array([1250, 1, 99999, 0], dtype=np.int64), 2),
                  pgbinary.jsonb(np.array([{}, [{"date": "2026-01-01", "amount": "1.00"}], None, '{"é":1}'],
                                          dtype=object)),
                  # Columns without NULLs take the encoder's fast paths; numbers in a text column its slow one.
                  pgbinary.text(np.array(["Zoë", "", "ascii", "日本"], dtype=object)),
                  pgbinary.uuid_field(np.array(ids, dtype=object)),
                  pgbinary.text(np.array([7, None, "x", 2.5], dtype=object))]
        with conn.cursor().copy("COPY t FROM STDIN (FORMAT binary)") as copy:
            copy.write(pgbinary.HEADER + pgbinary.tuples(fields) + pgbinary.TRAILER)
        conn.execute("SET TimeZone = 'UTC'")
        rows = conn.execute("SELECT * FROM t").fetchall()
    assert [r[0] for r in rows] == [-32768, 0, 7, 32767]
    assert [r[3] for r in rows] == [True, None, False, True]
    assert [r[4] for r in rows] == ["plain", None, "Zoë\tO'Brien\n", ""]
    assert [r[5] for r in rows] == ids[:3] + [None]
    assert rows[0][6] == dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc) and rows[1][6] is None
    assert [r[7] for r in rows] == [dt.date(2024, 2, 29), dt.date(1970, 1, 1), None, dt.date(2000, 1, 1)]
    assert [None if r[8] is None else str(r[8]) for r in rows] == ["0.00", "-0.05", "1234567890.12", None]
    assert [str(r[9]) for r in rows] == ["12.50", "0.01", "999.99", "0.00"]
    assert rows[1][10] == [{"date": "2026-01-01", "amount": "1.00"}] and rows[2][10] is None and rows[3][10] == {"é": 1}
    assert [r[11] for r in rows] == ["Zoë", "", "ascii", "日本"] and [r[12] for r in rows] == ids
    assert [r[13] for r in rows] == ["7", None, "x", "2.5"]
