"""A pytest plugin: a database seeded by hotelseed once per test session, for a project's own tests.

Installed with hotelseed (entry point `pytest11`), it adds the session fixture `hotelseed_db`. Choose the
database with `--hotelseed-url URL`, $HOTELSEED_TEST_DATABASE_URL or the ini option `hotelseed_url` (default: a
SQLite file in pytest's temporary directory), and the seed's options with the ini option `hotelseed_options`
(`key=value` words, the names of hotelseed.seed's arguments) or by overriding the `hotelseed_options` fixture.
The database is wiped and seeded when the session first asks for it; a database that is not on this machine is
refused, as everywhere in hotelseed. See docs/TESTING.md.
"""

from __future__ import annotations

import os

import pytest

from hotelseed.api import Seeded, seed


def pytest_addoption(parser):
    group = parser.getgroup("hotelseed")
    group.addoption("--hotelseed-url", default=None,
                    help="database the hotelseed_db fixture seeds once per session (default: a temporary SQLite file)")
    parser.addini("hotelseed_url", "database the hotelseed_db fixture seeds", default=None)
    parser.addini("hotelseed_options", "key=value options of the session seed, e.g. history_months=6 members=40",
                  type="args", default=[])


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


@pytest.fixture(scope="session")
def hotelseed_options(pytestconfig) -> dict:
    """The keyword arguments of hotelseed.seed for the session's database; override this fixture in a conftest.py
    to choose them in code."""
    options = {}
    for word in pytestconfig.getini("hotelseed_options"):
        key, sep, value = word.partition("=")
        if not sep:
            raise pytest.UsageError(f"hotelseed_options: {word!r} is not key=value")
        options[key.strip().replace("-", "_")] = _value(value.strip())
    return options


@pytest.fixture(scope="session")
def hotelseed_db(pytestconfig, tmp_path_factory, hotelseed_options) -> Seeded:
    """The session's seeded database: `.database_url`, `.summary`, `.scenarios` and `.scenario(name)`."""
    url = (pytestconfig.getoption("--hotelseed-url") or os.environ.get("HOTELSEED_TEST_DATABASE_URL")
           or pytestconfig.getini("hotelseed_url"))
    where = tmp_path_factory.mktemp("hotelseed")
    if not url:
        url = f"sqlite:///{where / 'hotelseed.db'}"
    return seed(url, yes=True, scenarios=where / "scenarios.json", **hotelseed_options)
