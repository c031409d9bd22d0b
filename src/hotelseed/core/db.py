"""Connecting to the target database: URL resolution, engines, one transaction, credential redaction."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

import contextlib

from hotelseed.core import signals
from hotelseed.core.errors import DatabaseStateError, HotelseedError, UsageError

DEFAULT_SQLITE_FILE = "hotelseed.db"


def lock_timeout_s() -> int:
    """How long to wait for a lock held by someone else before failing (HOTELSEED_LOCK_TIMEOUT, default 10 s)."""
    try:
        return max(1, int(os.environ.get("HOTELSEED_LOCK_TIMEOUT", "10")))
    except ValueError:
        raise UsageError("HOTELSEED_LOCK_TIMEOUT must be a whole number of seconds") from None


def resolve_url(database_url: str | None) -> str:
    """--database-url, else DATABASE_URL, else an embedded SQLite file in the working directory."""
    url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(f"not a database URL: {redact(url)!r}") from None
    except ValueError:  # SQLAlchemy reads the port as a number
        raise UsageError(f"the port in the database URL {redact(url)!r} is not a number") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise UsageError(f"unsupported SQLite driver {parsed.drivername!r}; use sqlite:///PATH")
        if not parsed.database or parsed.database == ":memory:":
            raise UsageError("an in-memory SQLite database would vanish after the run; give a file path")
    else:
        raise UsageError(f"unsupported database {backend!r}: use postgresql://… or sqlite:///PATH")
    return parsed.render_as_string(hide_password=False)


# Secrets in the three forms a connection can be written in. The userinfo of a URL (scheme://user:secret@host):
# the authority runs to the last '@' before the path or query, so a password holding '@' is hidden whole.
_USERINFO = re.compile(r"(\b[a-z][\w+.-]*://[^/\s?#:@]*):[^/\s?#]*@", re.IGNORECASE)
# A URL query parameter (?password=secret&...; sslpassword and *secret too): the value runs to the next '&'.
_QUERY_SECRET = re.compile(r"([?&]\w*(?:password|secret)=)[^&#\s]*", re.IGNORECASE)
# A libpq keyword/value string (host=h password='a b'): quoted with backslash escapes, or up to whitespace.
_KEYWORD_SECRET = re.compile(r"((?<![\w?&])\w*(?:password|secret)\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S+)",
                             re.IGNORECASE)
_URL = re.compile(r"\b[a-z][\w+.-]*://\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` (a database URL, a libpq connection string, or a message holding either) fit to print: every
    password or secret replaced by ***, and each URL shown decoded (host=/var/run/postgresql, not %2F...). The
    one function for everything hotelseed prints about a connection."""
    hidden = _hide_secrets(text)
    readable = _URL.sub(lambda m: _decoded(m.group(0)), hidden)
    return _hide_secrets(readable)  # decoding may reveal a secret that was percent-encoded: hide it too


def _hide_secrets(text: str) -> str:
    text = _USERINFO.sub(r"\1:***@", text)
    text = _QUERY_SECRET.sub(r"\1***", text)
    return _KEYWORD_SECRET.sub(r"\1***", text)


def _decoded(url: str) -> str:
    """A URL as a person reads it: percent-escapes decoded, and '+' in the query as the space it encodes."""
    base, sep, query = url.partition("?")
    return unquote(base) + sep + unquote_plus(query)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Take transaction control from the sqlite3 module (SQLAlchemy docs, "Serializable isolation /
            # Savepoints / Transactional DDL" for pysqlite), so DDL and DML share one BEGIN ... COMMIT.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute(f"PRAGMA busy_timeout = {lock_timeout_s() * 1000}")
            cur.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache: indexes are built after the data
            cur.close()
            if signals.installed():  # the command line: see signals.let_handlers_run
                dbapi_conn.set_progress_handler(signals.let_handlers_run, 100_000)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock up front: a second writer waits or fails, never interleaves.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 10})


def dialect_name(conn_or_engine) -> str:
    return conn_or_engine.dialect.name


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # driver errors vary; the user needs one line
        if _busy_reason(exc):
            raise Busy(_busy_reason(exc)) from None
        raise DatabaseStateError(
            f"cannot connect to {redact(str(engine.url.render_as_string(hide_password=False)))}: "
            f"{_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


class Busy(HotelseedError):
    """Someone else holds the database: another seed, or a lock we would wait on for too long."""

    exit_code = 4


def _busy_reason(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    name = type(orig).__name__
    text = str(orig)
    if "database is locked" in text or "database table is locked" in text:
        return "another seed (or another writer) holds this SQLite database; try again when it has finished"
    if name == "LockNotAvailable":
        return "a table is locked by another session and the lock timeout passed; nothing was changed"
    if name == "QueryCanceled":
        return "a statement ran into the statement timeout; nothing was changed"
    return None


@contextlib.contextmanager
def guarded_transaction(engine: Engine, sqlite_foreign_keys: bool = True):
    """A connection in one transaction; lock waits and timeouts become a one-line Busy error. The caller
    commits; anything else (an exception, a return without commit) rolls back.

    `sqlite_foreign_keys=False`: SQLite does not enforce foreign keys in this transaction (the pragma can only
    change outside one, hence here, and the connection is not pooled); the caller must prove them before it
    commits (core.bulk does, with PRAGMA foreign_key_check)."""
    try:
        with engine.connect() as conn:
            if not sqlite_foreign_keys and conn.dialect.name == "sqlite":
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # before BEGIN, not in it
            conn.begin()
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
    except sa.exc.DBAPIError as exc:
        reason = _busy_reason(exc)
        if reason:
            raise Busy(reason) from None
        raise
