"""The one guard every destructive run passes through (CLI, library API, tests), before anything is written.

It refuses (exit code 3, one line) when:
- the target is not local (a Unix socket, localhost, 127.0.0.0/8, ::1 or a SQLite file) and the run did not
  say --allow-remote; this is decided twice: before connecting, from every host and hostaddr libpq may try (the
  URL, its service, the PG* environment), and once connected, from the server's own address;
- the database's environment stamp is protected (production by default; HOTELSEED_PROTECTED_ENVIRONMENTS
  lists them) or differs from the environment the run declares (HOTELSEED_ENV, default development),
  unless the run says --override-environment-check (separate from --yes, like Rails'
  DISABLE_DATABASE_ENVIRONMENT_CHECK);
- the run would delete rows and nobody confirmed: an interactive run is shown the target and the row
  counts and asked; a non-interactive run needs --yes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError

from hotelseed.core.db import redact
from hotelseed.core.errors import HotelseedError, UsageError

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
    """Whether every address libpq may connect to for `url` is on this machine (a SQLite file always is)."""
    return not remote_targets(url)


def remote_targets(url: str) -> list[str]:
    """The hosts and hostaddrs libpq may try for `url` that are not on this machine, as `key=value`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return []
    resolved = libpq_view(parsed)
    remote = [f"{key}={value}" for key in ("host", "hostaddr") for value in resolved.get(key, "").split(",")
              if not is_local_host(value)]
    service = resolved.get("service")
    if service and not _service_defined(service, resolved.get("servicefile")):
        remote.append(f"service={service} (no readable service file defines it)")
    return remote


def libpq_view(parsed: URL) -> dict[str, str]:
    """The connection parameters as libpq will resolve them, without connecting: what SQLAlchemy hands psycopg
    (parsed by libpq itself), over the service's definition, over the PG* environment (PQconndefaults), in
    libpq's order of precedence. libpq reads the service only from the environment when asked for its defaults,
    so an explicit service (and service file) is put there for the moment of the call. (psycopg may add a hostaddr
    of its own, resolving a host name, which can only narrow where libpq goes: the guard errs towards remote.)"""
    import psycopg
    from psycopg import conninfo, pq

    _args, params = parsed.get_dialect()().create_connect_args(parsed)
    try:
        explicit = conninfo.conninfo_to_dict(conninfo.make_conninfo("", **params))
    except psycopg.ProgrammingError as exc:
        raise UsageError(f"the database URL is not a valid connection: {exc}") from None
    service = explicit.get("service") or os.environ.get("PGSERVICE")
    with _environment(PGSERVICE=service, PGSERVICEFILE=explicit.get("servicefile")):
        defaults = {o.keyword.decode(): o.val.decode() for o in pq.Conninfo.get_defaults() if o.val is not None}
    return {**defaults, **{k: str(v) for k, v in explicit.items()}}


@contextlib.contextmanager
def _environment(**values: str | None):
    """Set these environment variables (those not None) for the duration, then restore what was there."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        os.environ.update({k: v for k, v in values.items() if v is not None})
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _service_defined(service: str, servicefile: str | None) -> bool:
    """Whether a service file we can read defines `service`. libpq ignores an unreadable or missing definition
    when it reports its defaults (and fails only when connecting), so we look ourselves, in libpq's places: the
    service file given (servicefile, PGSERVICEFILE, else ~/.pg_service.conf), then $PGSYSCONFDIR/pg_service.conf.
    A service only in libpq's compiled-in system directory is not found here: it counts as remote."""
    files = [servicefile or os.environ.get("PGSERVICEFILE") or os.path.expanduser("~/.pg_service.conf")]
    if os.environ.get("PGSYSCONFDIR"):
        files.append(os.path.join(os.environ["PGSYSCONFDIR"], "pg_service.conf"))
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if any(line.strip() == f"[{service}]" for line in f):
                    return True
        except OSError:
            continue
    return False


def is_local_host(host: str) -> bool:
    """A host or hostaddr value on this machine: empty (libpq's default socket), a Unix socket directory (or an
    abstract one, '@name'), localhost, or a loopback address."""
    host = host.strip()
    if not host or host.startswith(("/", "@")) or host == "localhost":
        return True
    return is_local_address(host)


def is_local_address(address) -> bool:
    """The server's address as it sees the connection (inet_server_addr()): None over a Unix socket, else an
    address that must be a loopback one (an IPv4 loopback written as IPv6, ::ffff:127.0.0.1, counts)."""
    if address is None:
        return True
    try:
        ip = ipaddress.ip_address(str(address).split("/")[0])
    except ValueError:
        return False
    return ip.is_loopback or bool(getattr(ip, "ipv4_mapped", None) and ip.ipv4_mapped.is_loopback)


def server_address(conn: Connection):
    """The address the server answered this connection on, as the server sees it (None: a Unix socket or SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(sa.text("SELECT inet_server_addr()")).scalar()


def is_local_connection(conn: Connection, url: str) -> bool:
    """The guard's whole decision for a connected run: every address libpq might have used, and the one it did."""
    return is_local(url) and is_local_address(server_address(conn))


def check_target(url: str, consent: Consent) -> None:
    """Before connecting: refuse a URL that may lead off this machine (see remote_targets)."""
    if consent.allow_remote:
        return
    try:
        remote = remote_targets(url)
    except (ArgumentError, ValueError) as exc:
        raise UsageError(f"not a database URL: {redact(url)!r} ({exc})") from None
    if remote:
        raise Refused(f"{redact(url)} is not a local database: libpq may connect to {', '.join(remote)}; "
                      f"pass --allow-remote if you mean it")


def check_connection(conn: Connection, consent: Consent) -> None:
    """Once connected, before any change (every destructive run passes here): the server's own address, which
    catches what the URL cannot show (a proxy, a name that resolves elsewhere), then the environment stamp."""
    address = None if consent.allow_remote else server_address(conn)
    if not is_local_address(address):
        raise Refused(f"the database server answered on {address}, not on this machine; "
                      f"pass --allow-remote if you mean it")
    check_environment(conn, consent)


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
