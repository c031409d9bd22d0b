"""The guard decides from where libpq will actually connect (issue 19, finding 2), and no output ever shows a
credential (finding 4).

Every redirection libpq honours (hostaddr, PGHOST/PGHOSTADDR, a service, several hosts) points at a TEST-NET-3
address (RFC 5737: for documentation, never routed to a host; 192.0.2.0/24 is this test machine's own network),
and must be refused before any connection is made: exit 3, one line naming where libpq would go, the database
unchanged. Once connected, the server's own address decides again. Credentials are checked in every channel a
run writes to, with a URL that carries `?password=` (the local server trusts any password) and PGPASSWORD set.
"""

from __future__ import annotations

import ipaddress
import json
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hotelseed.core.db import make_engine, redact
from hotelseed.guard import Consent, check_connection, is_local_address, server_address
from test_cli import SMALL_ARGS, hs
from test_guard import _one_line, _seeded, _unchanged

REMOTE = "203.0.113.9"  # TEST-NET-3

SERVICES = f"""# services for the tests
[remote]
host={REMOTE}
[remoteaddr]
hostaddr={REMOTE}
[local]
host=127.0.0.1
"""


@pytest.fixture
def pg_seeded(databases):
    """The small CLI-seeded PostgreSQL database of test_guard, its name and digest."""
    url, digest = _seeded(databases, "postgresql")
    return url, make_url(url).database, digest


@pytest.fixture
def service_file(tmp_path):
    path = tmp_path / "pg_service.conf"
    path.write_text(SERVICES)
    return str(path)


# (what redirects, URL with {db}, environment; {file} is the service file above)
REDIRECTIONS = {
    "hostaddr behind host=localhost": (f"postgresql://postgres@localhost:5432/{{db}}?hostaddr={REMOTE}", {}),
    "PGHOST with a host-less URL": ("postgresql://postgres@/{db}", {"PGHOST": REMOTE}),
    "PGHOSTADDR behind host=localhost": ("postgresql://postgres@localhost/{db}", {"PGHOSTADDR": REMOTE}),
    "?service= naming a remote host": ("postgresql://postgres@/{db}?service=remote", {"PGSERVICEFILE": "{file}"}),
    "?service= giving a remote hostaddr": ("postgresql://postgres@/{db}?service=remoteaddr",
                                           {"PGSERVICEFILE": "{file}"}),
    "PGSERVICE": ("postgresql://postgres@/{db}", {"PGSERVICE": "remote", "PGSERVICEFILE": "{file}"}),
    "a service file that cannot be read": ("postgresql://postgres@/{db}?service=local",
                                           {"PGSERVICEFILE": "{file}.missing"}),
    "a service no file defines": ("postgresql://postgres@/{db}?service=elsewhere", {"PGSERVICEFILE": "{file}"}),
    "several hosts": (f"postgresql://postgres@/{{db}}?host=localhost,{REMOTE}", {}),
}


def _fill(template: str, env: dict, db: str, service_file: str) -> tuple[str, dict]:
    return template.format(db=db), {k: v.format(file=service_file) for k, v in env.items()}


@pytest.mark.parametrize("case", list(REDIRECTIONS))
def test_every_redirection_is_refused_before_connecting(pg_seeded, service_file, case):
    url, db, digest = pg_seeded
    target, env = _fill(*REDIRECTIONS[case], db, service_file)
    for command in (["master-complete", *SMALL_ARGS], ["cleanup"]):
        r = hs(*command, "--database-url", target, "--yes", env=env)
        line = _one_line(r)
        # The before-connect refusal (check_target): it names where libpq would go, so nothing was contacted.
        assert r.returncode == 3 and "libpq may connect to" in line and "--allow-remote" in line, (command, line)
    assert _unchanged(url, digest)


LOCAL = {
    "127.0.0.1": ("postgresql://postgres@127.0.0.1:5432/{db}", {}),
    "several local hosts": ("postgresql://postgres@/{db}?host=127.0.0.1,localhost", {}),
    "PGHOST=127.0.0.1 with a host-less URL": ("postgresql://postgres@/{db}", {"PGHOST": "127.0.0.1"}),
    "a service naming 127.0.0.1": ("postgresql://postgres@/{db}?service=local", {"PGSERVICEFILE": "{file}"}),
}


@pytest.mark.parametrize("case", [*LOCAL, "the server's Unix socket"])
def test_local_targets_pass_the_guard(pg_seeded, service_file, case):
    url, db, digest = pg_seeded
    if case in LOCAL:
        target, env = _fill(*LOCAL[case], db, service_file)
    else:
        target, env = f"postgresql://postgres@/{db}?host={_socket_directory(url)}", {}
    r = hs("cleanup", "--database-url", target, "--dry-run", "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["bookings"] > 0, r.stderr
    assert _unchanged(url, digest)


def _socket_directory(url: str) -> str:
    with make_engine(url).connect() as conn:
        return conn.execute(sa.text("SHOW unix_socket_directories")).scalar().split(",")[0].strip()


def test_the_guard_message_is_readable(pg_seeded):
    _url, db, _digest = pg_seeded
    r = hs("cleanup", "--yes", "--database-url",
           f"postgresql://postgres@/{db}?host=/var/run/postgresql&application_name=seed;qa&hostaddr={REMOTE}")
    line = _one_line(r)
    assert r.returncode == 3 and "host=/var/run/postgresql" in line and "application_name=seed;qa" in line
    assert "%" not in line


@pytest.mark.parametrize("address,local", [
    (None, True), (ipaddress.ip_address("127.0.0.1"), True), ("127.8.0.1", True), (ipaddress.ip_address("::1"), True),
    ("::ffff:127.0.0.1", True), (REMOTE, False), ("10.0.0.5", False), ("192.0.2.2", False), ("fd00::2", False),
    ("::ffff:10.0.0.5", False)])
def test_the_server_address_decides_after_connecting(address, local):
    """inet_server_addr() is NULL over a Unix socket and the server's own address otherwise."""
    assert is_local_address(address) is local


@pytest.mark.parametrize("over", ["tcp", "socket"])
def test_the_local_server_passes_the_check_after_connecting(pg_seeded, over):
    url, db, _digest = pg_seeded
    target = url if over == "tcp" else f"postgresql+psycopg://postgres@/{db}?host={_socket_directory(url)}"
    with make_engine(target).connect() as conn:
        address = server_address(conn)
        assert (address is None) == (over == "socket") and is_local_address(address)
        check_connection(conn, Consent())  # does not raise


def test_a_remote_resolving_run_never_shows_the_password(databases, tmp_path):
    """libpq may try a remote host (the second of PGHOST's) although it reaches the local one first: the run
    counts as remote, needs --allow-remote, and its catalogue names the users without a credential."""
    url = databases.new("postgresql")
    target, env = f"postgresql://postgres@/{make_url(url).database}", {"PGHOST": f"127.0.0.1,{REMOTE}"}
    scenarios = tmp_path / "scenarios.json"
    r = hs("master-complete", "--database-url", target, "--yes", *SMALL_ARGS, env=env)
    assert r.returncode == 3, r.stderr
    r = hs("master-complete", "--database-url", target, "--yes", "--allow-remote", "--json", "--scenarios",
           str(scenarios), *SMALL_ARGS, env=env)
    assert r.returncode == 0, r.stderr
    logins = [e for e in json.loads(scenarios.read_text())["scenarios"] if e["scenario"].startswith("login ")]
    assert logins and all(e["password"] is None for e in logins)
    assert "hotelseed-dev" not in r.stdout + scenarios.read_text()


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


def test_a_library_result_does_not_print_its_credentials():
    """`print(seed(...))` in a user's script: the Seeded it returns keeps the URL as given (to connect with), but
    its repr shows no part of it."""
    from hotelseed.api import Seeded
    from hotelseed.core.checks import Report

    seeded = Seeded("postgresql://u:userinfotok@127.0.0.1/db?password=querytok", {"rows": 1}, Report())
    assert "userinfotok" not in repr(seeded) and "querytok" not in repr(seeded), repr(seeded)
    assert "querytok" in seeded.database_url


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
        (["cleanup", "--database-url", f"{url}&hostaddr={REMOTE}", "--yes"], 3),  # the guard's line
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
