"""Files a run writes (scenarios.json, the report), made part of its all-or-nothing.

A seed's files describe the data it commits, so they follow the transaction: every target is checked before
anything changes (a path that cannot be written is the user's mistake: exit 2, nothing touched); each file is
rendered inside the transaction and written to a temporary file beside its target (same directory, so the
final rename is atomic), flushed to disk; a failure there rolls the transaction back and the temporary files
go. Only after COMMIT are they renamed onto the targets. If a rename fails then, the data is committed and
valid, and the message says where the new file is (docs/decisions.md, "Outputs follow the transaction").

Missing parent directories are created, as before, when the file is written (and removed again if the run
fails); the nearest existing one must be a directory this process may write in.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from hotelseed.core.errors import HotelseedError, UsageError
from hotelseed.core.failpoints import FailpointHit, failpoint


class OutputNotWritten(HotelseedError):
    """A file could not be written (a full disk, a quota): exit 1, and whatever it belonged to was rolled back."""


class OutputNotMoved(HotelseedError):
    """A file was written but could not be renamed onto its target: the new file stays beside it. Exit 1."""


def _existing_ancestor(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_file_target(option: str, path: Path | str) -> Path:
    """Refuse (UsageError, exit 2) a file target that could not be replaced by a file written beside it: an
    existing directory or special file (a device would be replaced by a regular file), a file we may not
    write, or a path whose nearest existing directory is not a directory or not writable. Returns the path
    the file will really go to (symbolic links followed: the file they point to is replaced)."""
    if Path(path).name in ("", ".", ".."):  # realpath would resolve 'a/missing/..' to 'a', a file it then replaces
        raise UsageError(f"{option} {path} names a directory; give a file path")
    real = Path(os.path.realpath(path))
    if real.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file path")
    if real.exists() and not real.is_file():
        raise UsageError(f"{option} {path} is not a regular file; give a file path")
    if real.exists() and not os.access(real, os.W_OK):
        raise UsageError(f"{option} {path} is not writable")
    check_directory_target(option, real.parent, shown=path)
    return real


def check_directory_target(option: str, path: Path | str, shown: Path | str | None = None) -> None:
    """Refuse (UsageError, exit 2) a directory that is not one, or that could not be created or written in."""
    shown = path if shown is None else shown
    where = _existing_ancestor(Path(os.path.abspath(path)))
    if not where.is_dir():
        raise UsageError(f"{option} {shown}: {where} is not a directory")
    if not os.access(where, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {shown}: cannot write in {where}")


def _sqlite_file(database_url: str | None) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url) if database_url else None
    return Path(os.path.realpath(url.database)) if url and url.get_backend_name() == "sqlite" else None


def _new_file_mode(target: Path) -> int:
    """The mode a replaced file keeps, or what open() would give a new one (mkstemp makes 0600)."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class Outputs:
    """The files of one run, by option name (`--scenarios`, `--report`, `--out`): checked when made, staged
    beside their targets with `stage`, renamed onto them with `publish`. Leaving the `with` block removes
    whatever was staged and not published, and the directories staging created."""

    def __init__(self, targets: dict[str, Path | str | None], database_url: str | None = None):
        self.targets = {option: (Path(path), check_file_target(option, path))
                        for option, path in targets.items() if path is not None}
        database = _sqlite_file(database_url)
        for option, (shown, real) in self.targets.items():
            if real == database:  # renamed onto after COMMIT, it would replace the data just committed
                raise UsageError(f"{option} {shown} is the database file; give another path")
        if len({real for _shown, real in self.targets.values()}) < len(self.targets):
            shown = [str(shown) for shown, _real in self.targets.values()]
            raise UsageError(f"{' and '.join(self.targets)} name the same file ({' and '.join(shown)}); "
                             "give each its own")
        self.staged: dict[str, Path] = {}
        self.created: list[Path] = []

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc) -> bool:
        self.discard()
        return False

    def wants(self, option: str) -> bool:
        return option in self.targets

    def stage(self, option: str, text: str) -> Path:
        """Write `text` to a temporary file beside the target, on disk (fsync). Returns the target as given."""
        shown, real = self.targets[option]
        try:
            self._make_parents(real.parent)
            fd, temp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
            self.staged[option] = Path(temp)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fchmod(f.fileno(), _new_file_mode(real))
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputNotWritten(f"cannot write {option} {shown}: {exc.strerror or exc}; nothing was changed") from None
        return shown

    def _make_parents(self, directory: Path) -> None:
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for d in reversed(missing):
            d.mkdir()
            self.created.append(d)

    def publish(self, done: str = "") -> None:
        """Rename every staged file onto its target. A rename that fails leaves the new file where it was staged,
        and raises OutputNotMoved naming it, after `done` (what already holds: e.g. the data is committed)."""
        failed = []
        for option, temp in list(self.staged.items()):
            shown, real = self.targets[option]
            try:
                failpoint("before-rename")  # tests: a rename that fails after COMMIT
                os.replace(temp, real)
            except (OSError, FailpointHit) as exc:
                failed.append(f"{option} {shown} was not replaced ({getattr(exc, 'strerror', None) or exc}); "
                              f"the new file is {temp}")
            del self.staged[option]
        self.created.clear()  # they hold published (or kept) files now
        if failed:
            raise OutputNotMoved(f"{done}{'; '.join(failed)}")

    def discard(self) -> None:
        for temp in self.staged.values():
            temp.unlink(missing_ok=True)
        self.staged.clear()
        for d in reversed(self.created):
            try:
                d.rmdir()
            except OSError:
                pass  # no longer empty: someone else's now
        self.created.clear()
