"""Outputs are part of all-or-nothing (issue 19, finding 3): a scenario catalogue or report that cannot be written
is refused before anything changes (exit 2), or rolls the seed back (exit 1), never committed data with a missing,
empty or partial file; the files are renamed onto their targets only after COMMIT, and a rename that fails then
says the data is committed. Real databases, real file systems: a full or read-only disk is a real tmpfs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import IN_CI
from hotelseed.core.db import make_engine
from hotelseed.core.errors import UsageError
from test_cli import SMALL_ARGS, hs
from test_guard import _one_line, _seeded, _unchanged, seeded  # noqa: F401 (seeded: the fixture)

# Runs the command after mounting a tmpfs of $1 bytes at $2 (in a mount namespace of its own, so it goes when the
# command ends) holding a copy of $3, read-only unless $5 is rw; copies what the tmpfs holds at the end to $4.
IN_TMPFS = ('mount -t tmpfs -o size="$1" tmpfs "$2" && cp -a "$3"/. "$2"/ && { [ "$5" = rw ] || '
            'mount -o remount,ro "$2"; } || exit 99; mnt=$2; after=$4; shift 5; "$@"; rc=$?; cp -a "$mnt"/. "$after"/; '
            'exit $rc')


def _namespace() -> list[str]:
    """How this machine lets a process mount a tmpfs of its own: as root (unshare -m), or in a user namespace."""
    for prefix in (["unshare", "-m"], ["unshare", "-Urm"]):
        probe = [*prefix, "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"]
        if shutil.which("unshare") and subprocess.run(probe, capture_output=True).returncode == 0:
            return prefix
    message = "cannot mount a tmpfs here, neither as root nor in a user namespace (unshare -Urm)"
    pytest.fail(message) if IN_CI else pytest.skip(message)


def hs_on_tmpfs(tmpfs: Path, files: dict[str, str], size: str, mode: str, *args: str):
    """`hotelseed *args` with a real tmpfs at `tmpfs` (size-limited: writes past it fail with ENOSPC; or read-only)
    that holds `files` when the command starts. Returns the result and what the tmpfs held at the end."""
    seed_dir, after = tmpfs.with_name(tmpfs.name + ".before"), tmpfs.with_name(tmpfs.name + ".after")
    for d in (tmpfs, seed_dir, after):
        d.mkdir()
    for name, text in files.items():
        (seed_dir / name).write_text(text)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("DATABASE_URL", None)
    r = subprocess.run([*_namespace(), "sh", "-c", IN_TMPFS, "sh", size, str(tmpfs), str(seed_dir), str(after), mode,
                        sys.executable, "-m", "hotelseed", *args], capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode != 99, r.stderr  # the tmpfs itself could not be set up
    return r, {p.name: p.read_text() for p in after.iterdir()}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _seed_7(url: str, *args: str) -> list[str]:
    """A run that, were it committed, would change the base database's digest (another seed)."""
    return ["master-complete", "--database-url", url, "--yes", "--quiet", "--seed", "7", *SMALL_ARGS, *args]


BAD_PATHS = {  # option, the path under tmp_path (a file "afile" and a directory "adir" exist), words of the message
    "parent is a file": ("--scenarios", "afile/scenarios.json", "is not a directory"),
    "an existing directory": ("--report", "adir", "is a directory"),
    "not a regular file": ("--scenarios", "/dev/null", "not a regular file"),
    "the same file twice": ("--report", "scenarios.json", "same file"),
    # realpath resolves 'afile/missing/..' to 'afile' (it does not look), which the rename would then replace
    "a path that ends in ..": ("--scenarios", "afile/missing/..", "names a directory"),
}


@pytest.mark.parametrize("case", list(BAD_PATHS))
def test_bad_output_path_is_exit_2_before_anything_changes(seeded, tmp_path, case):
    url, digest = seeded
    option, path, words = BAD_PATHS[case]
    (tmp_path / "afile").write_text("not a directory\n")
    (tmp_path / "adir").mkdir()
    before = _files(tmp_path)
    r = hs(*_seed_7(url, option, path), cwd=tmp_path)
    line = _one_line(r)
    assert r.returncode == 2 and option in line and path in line and words in line, (r.returncode, line)
    assert _unchanged(url, digest)
    assert _files(tmp_path) == before  # no scenarios.json, no temporary file


def test_read_only_directory_is_exit_2(seeded, tmp_path):
    url, digest = seeded
    r, held = hs_on_tmpfs(tmp_path / "ro", {}, "64k", "ro", *_seed_7(url, "--scenarios", str(tmp_path / "ro/s.json")))
    line = _one_line(r)
    assert r.returncode == 2 and "--scenarios" in line and "cannot write in" in line, (r.returncode, line)
    assert _unchanged(url, digest) and held == {}


@pytest.mark.parametrize("option", ["--scenarios", "--report"])
def test_full_disk_rolls_the_seed_back(seeded, tmp_path, option):
    """The catalogue (11 kB) or the report (130 kB) does not fit on an 8 kB tmpfs that holds the old file: the
    seed is rolled back, the old file is untouched, and no empty, partial or temporary file is left."""
    url, digest = seeded
    other = "--scenarios" if option == "--report" else "--report"  # written beside, and removed again
    r, held = hs_on_tmpfs(tmp_path / "full", {"out": "old\n"}, "8k", "rw",
                          *_seed_7(url, option, str(tmp_path / "full/out"), other, str(tmp_path / "other")))
    line = _one_line(r)
    assert r.returncode == 1 and f"cannot write {option}" in line and "No space left" in line, (r.returncode, line)
    assert "nothing was changed" in line
    assert _unchanged(url, digest)
    assert held == {"out": "old\n"}
    assert not (tmp_path / "other").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_seed_writes_complete_files_and_leaves_no_temporary_file(empty_db, tmp_path):
    """Missing parent directories are created; the files are whole and say what the summary says."""
    r = hs("master-complete", "--database-url", empty_db, "--json", *SMALL_ARGS,
           "--scenarios", "new/dir/scenarios.json", "--report", "new/report.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    written = json.loads((tmp_path / "new/dir/scenarios.json").read_text())
    assert written["scenarios"] == summary["scenarios"] and written["seed"] == summary["seed"]
    assert (tmp_path / "new/report.html").read_text().rstrip().endswith("</html>")
    assert _files(tmp_path) == {"new", "new/dir", "new/dir/scenarios.json", "new/report.html"}


def test_a_rename_that_fails_after_commit_says_the_data_is_committed(empty_db, tmp_path):
    (tmp_path / "scenarios.json").write_text("old\n")
    r = hs("master-complete", "--database-url", empty_db, "--quiet", *SMALL_ARGS, cwd=tmp_path,
           env={"HOTELSEED_FAILPOINT": "before-rename", "HOTELSEED_FAILPOINT_MODE": "raise"})
    line = _one_line(r)
    assert r.returncode == 1 and "the data IS committed and valid" in line and "--scenarios" in line, line
    temp = Path(line.rsplit("the new file is ", 1)[1])
    assert temp.parent == tmp_path and json.loads(temp.read_text())["scenarios"]  # whole, beside the target
    assert (tmp_path / "scenarios.json").read_text() == "old\n"
    v = hs("verify", "--database-url", empty_db)
    assert v.returncode == 0, v.stderr
    with make_engine(empty_db).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM bookings").scalar() > 0


def test_report_and_export_refuse_a_bad_out_path(seeded, tmp_path):
    url, _ = seeded
    (tmp_path / "afile").write_text("")
    for command in (["report", "--database-url", url, "--out", "afile/report.html"],
                    ["export", *SMALL_ARGS, "--out", "afile/data"]):
        r = hs(*command, cwd=tmp_path)
        line = _one_line(r)
        assert r.returncode == 2 and "--out afile/" in line and "is not a directory" in line, (command, line)
    assert _files(tmp_path) == {"afile"}


def test_the_sqlite_database_file_is_never_an_output(databases, tmp_path):
    """Renamed onto after COMMIT (or written by `report`), it would replace the database itself."""
    url, digest = _seeded(databases, "sqlite")
    database = url.removeprefix("sqlite:///")
    for command in (_seed_7(url, "--report", database), ["report", "--database-url", url, "--out", database]):
        r = hs(*command, cwd=tmp_path)
        line = _one_line(r)
        assert r.returncode == 2 and f"{database} is the database file" in line, (command, line)
    assert _unchanged(url, digest)


def test_library_seed_checks_its_paths_before_anything_changes(seeded, tmp_path):
    from hotelseed import seed

    url, digest = seeded
    (tmp_path / "afile").write_text("")
    with pytest.raises(UsageError, match="--report .*afile"):
        seed(url, yes=True, seed=7, as_of="2026-11-25", history_months=2, future_months=1, members=40,
             scenarios=tmp_path / "s.json", report=tmp_path / "afile" / "report.html")
    assert _unchanged(url, digest) and _files(tmp_path) == {"afile"}


def test_cleanup_dry_run_says_would_be_deleted(seeded):
    url, digest = seeded
    r = hs("cleanup", "--database-url", url, "--dry-run")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert "nothing was changed" in lines[0]
    assert lines[1:] and all(line.endswith("would be deleted") for line in lines[1:]), r.stdout
    assert _unchanged(url, digest)
