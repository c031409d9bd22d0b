"""Shared fixtures: real databases only (SQLite files and the local PostgreSQL), never mocks.

PostgreSQL: HOTELSEED_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test) names a server where
each test database is created and dropped. Without a reachable server the PostgreSQL cases are skipped
locally; with CI=true they fail instead, so CI can never pass without them.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import sqlalchemy as sa
import pytest
from sqlalchemy.engine import make_url

from hotelseed.core.db import make_engine, resolve_url
from hotelseed.guard import Consent
from hotelseed.plan import Options, parse_as_of
from hotelseed.master import master_complete

pytest_plugins = ["pytester"]  # tests of the hotelseed pytest plugin run a project's tests in a subprocess

PG_URL = os.environ.get("HOTELSEED_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]
AS_OF = parse_as_of("2026-11-25")
SMALL = dict(as_of=AS_OF, history_months=6, future_months=2, members=120)
YES = Consent(assume_yes=True)  # the tests pass the guard like a script that says --yes


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False),
                             connect_timeout=5):
            return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


_PG_PROBLEM = _pg_reachable()


def _admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates empty databases of either kind and removes them at the end of the session."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.pg_dbs: list[str] = []

    def new(self, backend: str) -> str:
        if backend == "sqlite":
            return resolve_url(f"sqlite:///{self.tmp.mktemp('db') / 'hotelseed.db'}")
        if _PG_PROBLEM:
            if IN_CI:
                pytest.fail(f"PostgreSQL must be reachable in CI: {_PG_PROBLEM}")
            pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")
        name = f"hs_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.pg_dbs.append(name)
        return resolve_url(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))

    def drop_all(self) -> None:
        if not self.pg_dbs:
            return
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            for name in self.pg_dbs:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_db(databases, backend) -> str:
    return databases.new(backend)


def seed(url: str, **options):
    return master_complete(make_engine(url), Options(**{**SMALL, **options}), consent=YES)


_seeded: dict[tuple, tuple] = {}


def _seeded_db(databases, backend: str, key: str, **options):
    if (backend, key) not in _seeded:
        url = databases.new(backend)
        _seeded[(backend, key)] = (url, master_complete(make_engine(url), Options(**options), consent=YES))
    return _seeded[(backend, key)]


@pytest.fixture
def small_dataset(databases, backend):
    """A small seeded database per backend, shared by the read-only tests of the session."""
    return _seeded_db(databases, backend, "small", **SMALL)


@pytest.fixture
def default_dataset(databases, backend):
    """The default master seed (default profile, 120 members, 36 + 6 months) at a fixed as-of."""
    return _seeded_db(databases, backend, "default", as_of=parse_as_of("2026-11-25"))


def schema_objects(conn) -> list:
    """Every index, exclusion constraint and foreign key as the database itself defines it."""
    if conn.dialect.name == "postgresql":
        return sorted(conn.execute(sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace UNION ALL "
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")).all())
    # sqlite_stat1 holds planner statistics (ANALYZE after the load), not schema.
    return sorted(conn.execute(sa.text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                       "WHERE type IN ('index', 'trigger', 'table') AND name NOT LIKE 'sqlite_stat%'")).all())
