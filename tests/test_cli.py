"""The command line as a user runs it (a subprocess): help, a JSON run, and bad input that must end in one
line, a non-zero exit and an untouched database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hotelseed.core.db import make_engine
from hotelseed.digest import dataset_digest

SMALL_ARGS = ["--as-of", "2026-11-25", "--history-months", "2", "--future-months", "1", "--members", "40"]


def hs(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("DATABASE_URL", None) if env is None or "DATABASE_URL" not in env else None
    return subprocess.run([sys.executable, "-m", "hotelseed", *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=900)


@pytest.mark.parametrize("command", [[], ["master-complete"], ["cleanup"], ["verify"], ["migrate"]])
def test_help(command):
    r = hs(*command, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout


def test_version():
    r = hs("--version")
    assert r.returncode == 0 and r.stdout.startswith("hotelseed ")


def test_master_complete_json_then_verify_and_cleanup(empty_db):
    r = hs("master-complete", "--database-url", empty_db, "--json", *SMALL_ARGS)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["verification"]["violations"] == 0
    assert summary["counts"]["bookings"] > 0 and summary["counts"]["threads"] > 0
    assert summary["seed"] == 20240611 and summary["as_of"].startswith("2026-11-25")
    v = hs("verify", "--database-url", empty_db, "--json")
    assert v.returncode == 0, v.stderr
    assert json.loads(v.stdout)["ok"] is True
    c = hs("cleanup", "--database-url", empty_db, "--json", "--yes")
    assert c.returncode == 0, c.stderr
    assert json.loads(c.stdout)["bookings"] == summary["counts"]["bookings"]
    with make_engine(empty_db).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM bookings").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM user_roles WHERE role_key = 'MANAGER'").scalar() == 3


def test_embedded_default_is_a_sqlite_file_in_the_working_directory(tmp_path):
    r = hs("master-complete", "--quiet", *SMALL_ARGS, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "hotelseed.db").is_file()


BAD = [
    (["master-complete", "--members", "-1"], 2, "members"),
    (["master-complete", "--members", "abc"], 2, "members"),
    (["master-complete", "--as-of", "yesterday-ish"], 2, "as-of"),
    (["master-complete", "--profile", "/nonexistent/profile.toml"], 2, "profile"),
    (["master-complete", "--history-months", "0"], 2, "history-months"),
    (["master-complete", "--no-such-flag"], 2, "no-such-flag"),
    (["master-complete", "--database-url", "mysql://root@localhost/x"], 2, "unsupported"),
    (["master-complete", "--database-url", "postgresql://postgres@127.0.0.1:1/nowhere"], 2, "cannot connect"),
]


@pytest.mark.parametrize("args,code,word", BAD, ids=[" ".join(a[0][1:]) for a in BAD])
def test_bad_input_is_one_line_and_touches_nothing(tmp_path, args, code, word):
    db = tmp_path / "hotelseed.db"
    url = f"sqlite:///{db}"
    first = hs("master-complete", "--database-url", url, "--quiet", *SMALL_ARGS)
    assert first.returncode == 0, first.stderr
    with make_engine(url).connect() as conn:
        before = dataset_digest(conn)
    full = list(args) if "--database-url" in args else [*args, "--database-url", url]
    r = hs(*full)
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and word in lines[0].lower() and "Traceback" not in r.stderr, r.stderr
    with make_engine(url).connect() as conn:
        assert dataset_digest(conn) == before


def test_bad_profiles(tmp_path):
    from hotelseed.profile import default_profile_path

    base = default_profile_path().read_text()
    cases = {
        "malformed.toml": "this is = = not toml",
        "currency.toml": base.replace('currency = "INR"', 'currency = "XQZ"', 1),
        "rooms.toml": base.replace('code = "KSD"', 'code = "KSD"\nrooms = 99', 1),
        "empty-property.toml": base.replace(
            base[base.index("room_types = [", base.index('slug = "bistupur"')):base.index("]\n", base.index("room_types = [", base.index('slug = "bistupur"'))) + 2],
            "room_types = []\n", 1),
        "real-domain.toml": base.replace('staff_email_domain = "podstays.example"', 'staff_email_domain = "gmail.com"'),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        r = hs("master-complete", "--profile", str(path), "--database-url", f"sqlite:///{tmp_path / 'x.db'}", *SMALL_ARGS)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, (name, r.stderr)
        assert not (tmp_path / "x.db").exists() or os.path.getsize(tmp_path / "x.db") == 0 or name, name


def test_wrong_schema_version_and_foreign_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert hs("migrate", "--database-url", url).returncode == 0
    with make_engine(url).begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    r = hs("master-complete", "--database-url", url, *SMALL_ARGS)
    assert r.returncode == 2 and "hotelseed migrate" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    up = hs("migrate", "--database-url", url)
    assert up.returncode == 0 and "upgraded" in up.stdout
    foreign = f"sqlite:///{tmp_path / 'foreign.db'}"
    with make_engine(foreign).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    r = hs("master-complete", "--database-url", foreign, *SMALL_ARGS)
    assert r.returncode == 2 and "no hotelseed schema version" in r.stderr
    with make_engine(foreign).connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["customers"]
