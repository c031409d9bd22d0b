"""Schema management: create or upgrade the schema with Alembic, and check a database before seeding."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hotelseed.core.errors import DatabaseStateError
from hotelseed.models import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def our_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def schema_state(conn: Connection) -> str:
    """'empty', 'current', 'behind', 'foreign' (tables we did not create), or 'foreign-alembic' (another
    application's Alembic history: a revision that is none of ours)."""
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return "empty"
    if "alembic_version" not in tables:
        return "foreign"
    rev = current_revision(conn)
    if rev not in our_revisions():
        return "foreign-alembic"
    return "current" if rev == head_revision() else "behind"


def require_writable(conn: Connection) -> None:
    """Fail before the first write, not in the middle of a run, when the database cannot be written: a SQLite file
    opened read-only (?mode=ro, a read-only or immutable file) or a PostgreSQL session that is read-only (a
    standby, default_transaction_read_only). SQLite says so only at the first write: this one, to the header's
    user_version (rewritten as it is), in the caller's transaction."""
    if conn.dialect.name == "postgresql":
        if conn.exec_driver_sql("SELECT current_setting('transaction_read_only')").scalar() == "on":
            raise DatabaseStateError("the database is read-only (a standby, or default_transaction_read_only is on)")
        return
    try:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
    except sa.exc.OperationalError as exc:
        if "readonly" not in str(exc.orig):
            raise
        raise DatabaseStateError(f"cannot write to the SQLite database {conn.engine.url.database}: {exc.orig} "
                                 f"(a read-only file, directory or ?mode=ro)") from None


def migrate(conn: Connection) -> str:
    """Bring the schema to head inside the caller's transaction. Returns what was done."""
    state = schema_state(conn)
    if state == "empty":
        metadata.create_all(conn)
        command.stamp(alembic_config(conn), "head")
        return f"created schema at revision {head_revision()}"
    if state == "foreign":
        raise DatabaseStateError("the database has tables but no hotelseed schema version (alembic_version); "
                                 "point --database-url at an empty database or one created by hotelseed")
    if state == "foreign-alembic":
        raise DatabaseStateError(f"the database belongs to another application: its Alembic revision "
                                 f"{current_revision(conn)!r} is not one of hotelseed's; nothing was changed: point "
                                 f"--database-url at an empty database or one created by hotelseed")
    if state == "behind":
        before = current_revision(conn)
        command.upgrade(alembic_config(conn), "head")
        return f"upgraded schema from {before} to {head_revision()}"
    return f"schema already at revision {head_revision()}"


def require_current(conn: Connection, auto_create: bool = True) -> str | None:
    state = schema_state(conn)
    if state == "current":
        return None
    if state == "empty" and auto_create:
        return migrate(conn)
    if state == "behind":
        raise DatabaseStateError(f"the database schema is at revision {current_revision(conn)}, hotelseed needs "
                                 f"{head_revision()}: run `hotelseed migrate` first")
    if state in ("foreign", "foreign-alembic"):
        migrate(conn)  # raises with the explanation
    raise DatabaseStateError("the database has no hotelseed schema: run `hotelseed migrate` first")
