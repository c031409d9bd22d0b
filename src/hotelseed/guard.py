"""The one guard every destructive run passes through (CLI, library API, tests), before anything is written.

It refuses (exit code 3, one line) when:
- the target is not local (a Unix socket, localhost, 127.0.0.0/8, ::1 or a SQLite file) and the run did not
  say --allow-remote; this is decided from the URL, before connecting;
- the database's environment stamp is protected (production by default; HOTELSEED_PROTECTED_ENVIRONMENTS
  lists them) or differs from the environment the run declares (HOTELSEED_ENV, default development),
  unless the run says --override-environment-check (separate from --yes, like Rails'
  DISABLE_DATABASE_ENVIRONMENT_CHECK);
- the run would delete rows and nobody confirmed: an interactive run is shown the target and the row
  counts and asked; a non-interactive run needs --yes.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from hotelseed.core.db import redact
from hotelseed.core.errors import HotelseedError

DEFAULT_ENV = "development"


class Refused(HotelseedError):
    exit_code = 3


@dataclass(frozen=True)
class Consent:
    """What the person (or script) running hotelseed has agreed to."""

    assume_yes: bool = False  # --yes
    allow_remote: bool = False  # --allow-remote
    override_environment: bool = False  # --override-environment-check
    confirm: Callable[[str, dict[str, int]], bool] | None = None  # asks a person; None = non-interactive


def declared_environment() -> str:
    return os.environ.get("HOTELSEED_ENV", DEFAULT_ENV).strip().lower() or DEFAULT_ENV


def protected_environments() -> set[str]:
    raw = os.environ.get("HOTELSEED_PROTECTED_ENVIRONMENTS", "production")
    return {e.strip().lower() for e in raw.split(",") if e.strip()}


def is_local(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return True
    host = parsed.host or parsed.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    if not host or host.startswith("/") or host == "localhost":
        return True  # no host = the Unix socket
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, consent: Consent) -> None:
    """URL-only checks: run before any connection is made."""
    if not is_local(url) and not consent.allow_remote:
        raise Refused(f"{redact(url)} is not a local database; pass --allow-remote if you mean it")


def read_stamp(conn: Connection) -> str | None:
    if "hotelseed_environment" not in sa.inspect(conn).get_table_names():
        return None
    return conn.execute(sa.text("SELECT environment FROM hotelseed_environment WHERE id = 1")).scalar()


def write_stamp(conn: Connection, environment: str | None = None) -> str:
    env = environment or declared_environment()
    if read_stamp(conn) is None:
        conn.execute(sa.text("INSERT INTO hotelseed_environment (id, environment) VALUES (1, :e)"), {"e": env})
    return env


def check_environment(conn: Connection, consent: Consent) -> None:
    stamp = read_stamp(conn)
    if stamp is None or consent.override_environment:
        return
    declared = declared_environment()
    if stamp in protected_environments():
        raise Refused(f"the database is stamped '{stamp}', a protected environment; "
                      f"pass --override-environment-check if you really mean to wipe it")
    if stamp != declared:
        raise Refused(f"the database is stamped '{stamp}' but this run declares '{declared}' (HOTELSEED_ENV); "
                      f"pass --override-environment-check to proceed anyway")


def confirm_deletion(url: str, deleting: dict[str, int], consent: Consent) -> None:
    rows = sum(deleting.values())
    if rows == 0 or consent.assume_yes:
        return
    if consent.confirm is None:
        raise Refused(f"this would delete {rows:,} rows from {redact(url)}; pass --yes to confirm when not "
                      f"running interactively")
    if not consent.confirm(redact(url), deleting):
        raise Refused("not confirmed; nothing was changed")
