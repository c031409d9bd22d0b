"""No output ever shows a credential (issue 19, finding 4), and a bad URL is bad input.

Credentials are checked in every channel a run writes to, with a URL that carries `?password=` (the local server
trusts any password) and PGPASSWORD set.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy.engine import make_url

from hotelseed.core.db import redact
from test_cli import SMALL_ARGS, hs
from test_guard import _one_line


def test_a_non_numeric_port_is_bad_input():
    for command in (["master-complete", "--yes", *SMALL_ARGS], ["verify"]):
        r = hs(*command, "--database-url", "postgresql://u@127.0.0.1:abc/db")
        assert r.returncode == 2 and "port" in _one_line(r), r.stderr


@pytest.mark.parametrize("text", [
    "postgresql://seed:s3cr@t@db.example.com/hotel",
    "postgresql://seed@db/hotel?sslmode=require&PassWord=s3cret&application_name=x",
    "cannot connect to postgresql://seed@db/hotel?sslpassword=s3cret: timeout",
    "host=db user=seed password='s3 cr\\'et' dbname=hotel",
    'invalid dsn "host=db password=s3cret"',
    "postgresql://seed@db/hotel?options=-c%20x%26password%3Ds3cret",
])
def test_redact_hides_every_form(text):
    """The userinfo, a query parameter in any case, a libpq keyword/value string (quoted, with an escaped quote),
    and a secret that only decoding the URL shows: no piece of the secret is left."""
    shown = redact(text)
    assert "***" in shown and "s3" not in shown and "cr" not in shown and "et" not in shown.replace("seed", ""), shown


def test_no_output_shows_a_credential(databases, tmp_path):
    """A URL with ?password=TOKEN, and PGPASSWORD=OTHER in the environment: neither appears in stdout, stderr
    (header, progress, error lines), --json, --dry-run --json, scenarios.json or either HTML report."""
    token, other = f"urltok{uuid.uuid4().hex}", f"envtok{uuid.uuid4().hex}"
    db = make_url(databases.new("postgresql")).database
    url = f"postgresql://postgres@127.0.0.1:5432/{db}?password={token}"
    env = {"PGPASSWORD": other}
    scenarios, report, report2 = tmp_path / "scenarios.json", tmp_path / "seed.html", tmp_path / "report.html"
    runs = [  # (arguments, expected exit code)
        (["master-complete", "--database-url", url, "--yes", "--scenarios", str(scenarios), "--report", str(report),
          *SMALL_ARGS], 0),
        (["master-complete", "--database-url", url, "--dry-run", "--json", *SMALL_ARGS], 0),
        (["master-complete", "--database-url", url, "--dry-run", *SMALL_ARGS], 0),
        (["verify", "--database-url", url, "--json"], 0),
        (["report", "--database-url", url, "--skip-checks", "--out", str(report2)], 0),
        (["cleanup", "--database-url", url], 3),  # not confirmed: the line names the target
        (["master-complete", "--database-url", url, "--yes", "--profile", "no-such-profile"], 2),
        (["verify", "--database-url", url.replace(":5432", ":1")], 2),  # cannot connect: the line names the URL
        (["verify", "--database-url", f"postgresql://postgres:{token}@127.0.0.1:1/{db}"], 2),
        (["verify", "--database-url", url.replace("password", "PASSWORD")], 2),  # libpq: not a keyword
    ]
    seen = []
    for args, code in runs:
        r = hs(*args, env=env)
        assert r.returncode == code and "Traceback" not in r.stderr, (args, r.stderr)
        seen += [r.stdout, r.stderr]
    seen += [p.read_text() for p in (scenarios, report, report2)]
    everything = "\n".join(seen)
    assert token not in everything and other not in everything
    assert everything.count("password=***") >= 5  # the URL was printed, redacted, in several places
