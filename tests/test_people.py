"""Issue 6: what the people who run hotelseed get: the report (rendered in a real headless Chromium), the scenario
catalogue, the library API, the pytest fixture, progress and --json, and the README's quick start, run as
written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from conftest import AS_OF, IN_CI
from hotelseed import seed as hs_seed
from hotelseed.core.db import make_engine
from hotelseed.guard import Refused
from hotelseed.scenarios import STATUS_WHY, catalogue
from test_cli import hs

REPO = Path(__file__).resolve().parents[1]
SMALL_ARGS = ["--as-of", "2026-11-25", "--history-months", "6", "--future-months", "2", "--members", "120"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if IN_CI:
        pytest.fail("headless Chromium must be installed in CI (.ci/run installs Debian's chromium)")
    pytest.skip("no Chromium on this machine (.ci/run installs it)")


PROBE = """<script>
window.addEventListener('load', () => {
  const svgs = [...document.querySelectorAll('figure svg')];
  const drawn = svgs.filter(s => { const b = s.getBBox(); return b.width > 50 && b.height > 50 &&
      s.querySelectorAll('path, rect, text, use').length > 10; });
  const imgs = [...document.images];
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0);
  document.body.setAttribute('data-probe', JSON.stringify({svgs: svgs.length, drawn: drawn.length,
      images: imgs.length, broken: broken.length, sections: document.querySelectorAll('section').length}));
});
</script>"""


def test_report_renders_in_headless_chromium(default_dataset, tmp_path):
    """The report of the default dataset, opened in a real browser: every chart is drawn (an SVG with a real
    size and marks), no image is broken, and a screenshot shows a page, not a blank."""
    chromium = _chromium()
    url, _ = default_dataset
    path = tmp_path / "report.html"
    r = hs("report", "--database-url", url, "--out", str(path), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"report": str(path), "checks": 51, "ok": True}
    page = path.read_text()
    assert "<script" not in page and not re.search(r"(src|href)=[\"']?https?:", page)  # offline: no script, no fetch
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    profile = tmp_path / "chrome-profile"
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r"data-probe=\"([^\"]+)\"", dom.stdout)
    assert found, dom.stderr[-2000:]
    stats = json.loads(found.group(1).replace("&quot;", '"'))
    assert stats["svgs"] >= 9 and stats["drawn"] == stats["svgs"] and stats["broken"] == 0, stats
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,3000",
                    f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    assert pixels[..., :3].std() > 0.05  # charts and tables, not an empty page


def test_scenario_catalogue_finds_every_scenario(default_dataset):
    """Per property a login per staff role; a member at each tier; a booking in each status, one arriving today
    and one with an open cancellation request; the hub's cases; each entry exists and says why it matters."""
    url, _ = default_dataset
    with make_engine(url).connect() as conn:
        entries = catalogue(conn, local=True, as_of_day=AS_OF.date().isoformat())
        names = {e["scenario"] for e in entries}
        properties = conn.execute(sa.text("SELECT count(*) FROM properties")).scalar()
        for role in ("manager", "staff_frontdesk", "staff_ops"):
            logins = [e for e in entries if e["scenario"] == f"login {role}"]
            assert len(logins) == properties and all(e["password"] == "hotelseed-dev" for e in logins)
        # The printed password opens every staff account (argon2id, hashed on as many threads as cores), each
        # hash with its own salt.
        staff_hashes = conn.execute(sa.text(
            "SELECT DISTINCT u.password_hash FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role_key IN "
            "('MANAGER','STAFF_FRONTDESK','STAFF_OPS','ADMIN','SUPERADMIN')")).scalars().all()
        staff_count = conn.execute(sa.text(
            "SELECT count(DISTINCT r.user_id) FROM user_roles r WHERE r.role_key IN "
            "('MANAGER','STAFF_FRONTDESK','STAFF_OPS','ADMIN','SUPERADMIN')")).scalar()
        assert len(staff_hashes) == staff_count >= 3 * properties
        assert all(PasswordHasher().verify(h, "hotelseed-dev") for h in staff_hashes)
        assert {f"member {t}" for t in ("member", "silver", "gold", "platinum", "diamond")} <= names
        assert {f"booking {s.lower()}" for s in STATUS_WHY} <= names
        assert {"booking arriving today", "booking with an open cancellation request", "unassigned booking thread",
                "escalated complaint", "suppressed contact", "member with a referral",
                "member with a tier transfer"} <= names
        assert all(len(e["why"]) > 20 for e in entries)
        for e in entries:  # every entry is a real record
            if "confirmation_number" in e:
                status = conn.execute(sa.text("SELECT CAST(status AS VARCHAR(16)) FROM bookings WHERE "
                                              "confirmation_number = :c"), {"c": e["confirmation_number"]}).scalar()
                assert status == e["status"], e
            if "thread_id" in e:
                assert conn.execute(sa.text("SELECT count(*) FROM threads WHERE id = :t"), {"t": e["thread_id"]}).scalar() == 1
        complaint = next(e for e in entries if e["scenario"] == "escalated complaint")
        role = conn.execute(sa.text("SELECT r.role_key FROM users u JOIN user_roles r ON r.user_id = u.id WHERE "
                                    "u.email = :e"), {"e": complaint["assigned_to"]}).scalar()
        assert role == "MANAGER"
        today = next(e for e in entries if e["scenario"] == "booking arriving today")
        assert str(today["check_in"])[:10] == AS_OF.date().isoformat()
        remote = catalogue(conn, local=False, as_of_day=AS_OF.date().isoformat())
        assert all(e.get("password") is None for e in remote)  # never a credential for a shared database


def test_master_complete_writes_scenarios_and_report(tmp_path):
    db = tmp_path / "demo.db"
    r = hs("master-complete", "--database-url", f"sqlite:///{db}", "--yes", "--report", "report.html", *SMALL_ARGS,
           cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "scenarios.json").read_text())
    assert data["seed"] == 20240611 and len(data["scenarios"]) > 20
    assert "Scenario catalogue" in r.stdout and "Report: report.html" in r.stdout
    assert (tmp_path / "report.html").stat().st_size > 50_000
    # Plain progress lines when stderr is not a terminal, with rows/s; nothing with --quiet.
    assert re.search(r"property \S+\s+[\d,]+ rows\s+[\d.]+ s\s+[\d,]+ rows/s", r.stderr), r.stderr
    q = hs("master-complete", "--database-url", f"sqlite:///{db}", "--yes", "--quiet", "--scenarios",
           str(tmp_path / "again.json"), *SMALL_ARGS, cwd=tmp_path)
    assert q.returncode == 0 and q.stderr == "" and q.stdout == ""


def test_library_api(tmp_path):
    url = f"sqlite:///{tmp_path / 'api.db'}"
    result = hs_seed(url, as_of="2026-11-25", history_months=3, future_months=1, members=40, yes=True,
                     scenarios=tmp_path / "s.json")
    assert result.summary["rows"] > 50_000 and result.report.ok
    assert result.scenario("booking cancelled")["status"] == "CANCELLED"
    assert json.loads((tmp_path / "s.json").read_text())["scenarios"] == json.loads(json.dumps(result.scenarios, default=str))
    with pytest.raises(Refused):  # rows would be deleted and nobody said yes
        hs_seed(url, as_of="2026-11-25", history_months=3)
    with pytest.raises(Refused):
        hs_seed("postgresql://u@db.example.com/x", yes=True)
    with pytest.raises(KeyError, match="no scenario"):
        result.scenario("unicorn")


def test_pytest_fixture_seeds_once_per_session(pytester):
    """A project's own tests: the hotelseed_db fixture seeds the database once for the whole session."""
    pytester.makeini("[pytest]\nhotelseed_options = as_of=2026-11-25 history_months=2 future_months=1 members=20\n")
    pytester.makepyfile(test_mine="""
        import sqlalchemy as sa

        def test_there_are_bookings(hotelseed_db):
            with sa.create_engine(hotelseed_db.database_url).connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar() > 100
            assert hotelseed_db.scenario("booking checked_out")["status"] == "CHECKED_OUT"

        def test_same_database_seeded_once(hotelseed_db):
            with sa.create_engine(hotelseed_db.database_url).connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM seed_runs")).scalar() == 1
            assert hotelseed_db.summary["seed"] == 20240611
    """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_json_output_everywhere(small_dataset, tmp_path):
    url, _ = small_dataset
    for args in (["verify"], ["realism"], ["report", "--out", str(tmp_path / "r.html"), "--skip-checks"]):
        r = hs(*args, "--database-url", url, "--json")
        assert r.returncode in (0, 1), r.stderr
        json.loads(r.stdout)
    fresh = f"sqlite:///{tmp_path / 'm.db'}"
    r = hs("migrate", "--database-url", fresh, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["revision"]
    r = hs("cleanup", "--database-url", fresh, "--json", "--yes")
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), dict)
    r = hs("--version")
    assert r.returncode == 0 and r.stdout.startswith("hotelseed ")


def test_no_color_is_respected(tmp_path):
    """With a terminal forced (FORCE_COLOR), output is coloured; NO_COLOR takes the colour away."""
    db = f"sqlite:///{tmp_path / 'c.db'}"
    common = ["master-complete", "--database-url", db, "--yes", "--as-of", "2026-11-25", "--history-months", "1",
              "--future-months", "1", "--members", "10"]
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "DATABASE_URL")}

    def run(**extra):
        return subprocess.run([sys.executable, "-m", "hotelseed", *common], capture_output=True, text=True,
                              cwd=tmp_path, env={**base, "FORCE_COLOR": "1", "TERM": "xterm-256color", **extra},
                              timeout=600)

    coloured = run()
    plain = run(NO_COLOR="1")
    assert coloured.returncode == 0 and plain.returncode == 0
    assert "\x1b[32m" in coloured.stdout  # the green OK
    assert not re.search(r"\x1b\[3\dm|\x1b\[38;", plain.stdout + plain.stderr)


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)
            for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_readme_quick_start_runs_as_written(tmp_path):
    """Both quick-start commands, as the README shows them, in a fresh copy of the repository: the first installs
    and seeds the embedded default; the second installs with the test extras and starts pytest (here with
    --collect-only added through PYTEST_ADDOPTS, so the suite does not run itself)."""
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    assert "master-complete" in commands[0] and commands[1].endswith("pytest")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    clone = tmp_path / "clone"
    for f in files:
        if (REPO / f).is_file():
            (clone / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, clone / f)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTEST", "HOTELSEED", "DATABASE_URL"))}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    first = subprocess.run(["bash", "-c", commands[0]], cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "0 violations" in first.stdout and (clone / "hotelseed.db").exists() and (clone / "scenarios.json").exists()
    second = subprocess.run(["bash", "-c", commands[1]], cwd=clone, env={**env, "PYTEST_ADDOPTS": "--collect-only -q"},
                            capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert re.search(r"\d+ tests collected", second.stdout), second.stdout[-2000:]
