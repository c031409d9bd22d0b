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


def schema_state(conn: Connection) -> str:
    """'empty', 'current', 'behind', or 'foreign' (tables we did not create)."""
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return "empty"
    if "alembic_version" not in tables:
        return "foreign"
    rev = current_revision(conn)
    return "current" if rev == head_revision() else "behind"


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
    if state == "foreign":
        migrate(conn)  # raises with the explanation
    raise DatabaseStateError("the database has no hotelseed schema: run `hotelseed migrate` first")
