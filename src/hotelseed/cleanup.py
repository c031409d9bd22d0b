"""Cleanup: delete the module data in an order derived from the schema's foreign keys (children first).

The spec's five steps (communication hub → booking-related → bookings → loyalty → guest users) label the
tables; the order comes from the foreign keys, so a new table or FK can never make it wrong. The catalogue
(organization, properties, room types, rooms, rate plans, tiers, rules, perks, items, roles) is never wiped.

Tables hotelseed does not own (an application's) may refer to the tables it deletes from. Such a key either
deletes or rewrites their rows behind the run's back (CASCADE, SET NULL, SET DEFAULT) or makes the run fail
(NO ACTION, RESTRICT; and on PostgreSQL any of them stops a TRUNCATE). So the run reads every foreign key from the
database's catalogue before its guard and refuses (--foreign-references refuse, the default), or, when told
`cascade`, deletes those tables' rows that refer to rows it deletes itself, counted first and reported.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core.errors import DatabaseStateError
from hotelseed.models import metadata

# Module data, by the spec's cleanup step. Everything else in the schema is catalogue or run metadata.
STEPS: dict[str, tuple[str, ...]] = {
    "1 communication hub": ("email_events", "email_attachments", "conversation_notes", "message_logs", "call_logs",
                            "suppressions", "emails", "threads", "contacts"),
    "2 booking-related": ("room_assignments", "booking_audit_logs", "booking_guests", "payments", "inventory_locks",
                          "hold_logs", "stays", "inventories"),
    "3 bookings": ("bookings",),
    "4 loyalty": ("points_ledger", "perk_redemptions", "redemption_transactions", "tier_history", "referrals",
                  "tier_transfers", "loyalty_accounts"),
}
MODULE_TABLES = frozenset(t for ts in STEPS.values() for t in ts)
STEP_OF = {t: step for step, ts in STEPS.items() for t in ts}
STAFF_ROLE_KEYS = ("STAFF_FRONTDESK", "STAFF_OPS", "MANAGER", "ADMIN", "SUPERADMIN")


def delete_order() -> list[str]:
    """Module tables, children before parents, by reversing the FK topological order of the schema."""
    return [t.name for t in reversed(metadata.sorted_tables) if t.name in MODULE_TABLES]


@dataclass
class CleanupResult:
    deleted: dict[str, int]
    # Tables emptied by TRUNCATE in the caller's transaction (PostgreSQL): COPY into them may write its rows
    # frozen (COPY ... FREEZE), which the server allows only for a table truncated or created in the same
    # transaction.
    truncated: frozenset[str] = frozenset()


GUEST_USERS_SQL = (
    "SELECT u.id FROM users u WHERE NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND "
    "r.role_key IN ('STAFF_FRONTDESK','STAFF_OPS','MANAGER','ADMIN','SUPERADMIN'))"
)
SEEDED_STAFF_SQL = (
    "SELECT u.id FROM users u WHERE u.seed_run_id IS NOT NULL AND EXISTS (SELECT 1 FROM user_roles r WHERE "
    "r.user_id = u.id AND r.role_key IN ('STAFF_FRONTDESK','STAFF_OPS','MANAGER','ADMIN')) AND NOT EXISTS "
    "(SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_key = 'SUPERADMIN')"
)


# --foreign-references: what a run does about tables it does not own that refer to the tables it deletes from.
REFUSE, CASCADE = "refuse", "cascade"
DELETED_FROM = MODULE_TABLES | {"users", "user_roles"}
_PG_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key of a table hotelseed does not own; table names as SQL writes them (quoted where needed)."""

    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    on_delete: str

    def __str__(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) -> {self.parent} ON DELETE {self.on_delete}"


def _pg_foreign_keys(conn: Connection) -> list[ForeignKey]:
    """Every foreign key (any schema) whose table is not one of hotelseed's tables in the current schema; a
    partitioned table's key once (its partitions' copies have a conparentid)."""
    rows = conn.execute(sa.text("""
        SELECT c.conrelid::regclass::text, cn.nspname = current_schema() AND ct.relname = ANY(:ours),
               c.confrelid::regclass::text, c.confdeltype::text,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
               ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
        FROM pg_constraint c JOIN pg_class ct ON ct.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = ct.relnamespace
        WHERE c.contype = 'f' AND c.conparentid = 0 AND cn.nspname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1, c.conname"""), {"ours": list(metadata.tables)}).all()
    return [ForeignKey(table, tuple(cols), parent, tuple(pcols), _PG_ON_DELETE[action])
            for table, ours, parent, action, cols, pcols in rows if not ours]


def _sqlite_name(name: str) -> str:
    return name if name.isidentifier() and name.isascii() else '"' + name.replace('"', '""') + '"'


def _sqlite_foreign_keys(conn: Connection) -> list[ForeignKey]:
    """Every foreign key of every table that is not hotelseed's (PRAGMA foreign_key_list, one key per id)."""
    out = []
    tables = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").scalars()
    for name in (t for t in tables if t not in metadata.tables and not t.startswith("sqlite_")):
        keys: dict[int, list] = {}
        for _id, _seq, parent, column, to, _upd, on_delete, _match in conn.exec_driver_sql(
                f"PRAGMA foreign_key_list({_sqlite_name(name)})").all():
            keys.setdefault(_id, []).append((parent, column, to, on_delete))
        for parts in keys.values():
            parent = parts[0][0]
            to = [p[2] for p in parts]
            if None in to:  # the parent's primary key
                to = [r[1] for r in sorted((r for r in conn.exec_driver_sql(
                    f"PRAGMA table_info({_sqlite_name(parent)})").all() if r[5]), key=lambda r: r[5])]
            out.append(ForeignKey(_sqlite_name(name), tuple(p[1] for p in parts), _sqlite_name(parent), tuple(to),
                                  parts[0][3]))
    return out


def foreign_references(conn: Connection) -> list[ForeignKey]:
    """Foreign keys of tables hotelseed does not own into the tables it deletes from, and into those tables in
    turn (their rows go when the rows they refer to go), read from the database's own catalogue."""
    keys = _pg_foreign_keys(conn) if conn.dialect.name == "postgresql" else _sqlite_foreign_keys(conn)
    reached, found = set(DELETED_FROM), []
    while True:
        more = [k for k in keys if k.parent in reached and k not in found and k.table != k.parent]
        if not more:
            return found
        found += more
        reached |= {k.table for k in more}


def _users_deleted(keep_staff: bool) -> str:
    return f"id IN ({GUEST_USERS_SQL})" + ("" if keep_staff else f" OR id IN ({SEEDED_STAFF_SQL})")


def _doomed(table: str, keys: list[ForeignKey], keep_staff: bool) -> str:
    """SQL condition on `table` for the rows this run deletes: every row of a module table, the guest (and,
    without keep_staff, seeded staff) users and their roles, and rows of a foreign table referring to those."""
    if table in MODULE_TABLES:
        return "1 = 1"
    if table == "users":
        return _users_deleted(keep_staff)
    if table == "user_roles":
        return f"user_id IN (SELECT id FROM users WHERE {_users_deleted(keep_staff)})"
    refs = [f"({', '.join(map(_quoted, k.columns))}) IN (SELECT {', '.join(map(_quoted, k.parent_columns))} "
            f"FROM {_from(k.parent)} WHERE {_doomed(k.parent, keys, keep_staff)})" for k in keys if k.table == table]
    return " OR ".join(refs)  # the keys have no cycle (foreign_rows refuses one), so this ends


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _from(table: str) -> str:
    return f'"{table}"' if table in metadata.tables else table


def foreign_rows(conn: Connection, keep_staff: bool, policy: str = REFUSE) -> dict[str, str]:
    """Tables hotelseed does not own whose rows this run would delete (children first), each with the condition
    that selects those rows. With policy refuse, any key from such a table into a table the run deletes from is
    refused (DatabaseStateError), whatever its rows: the decision comes from the schema, before the guard."""
    keys = foreign_references(conn)
    if keys and policy != CASCADE:
        direct = [k for k in keys if k.parent in DELETED_FROM]
        raise DatabaseStateError(
            f"{len(direct)} foreign key{'' if len(direct) == 1 else 's'} of tables hotelseed does not own refer to "
            f"tables it deletes from ({'; '.join(map(str, direct[:4]))}{'; ...' if len(direct) > 4 else ''}): their "
            "rows would be deleted, rewritten or would stop the run. Nothing was changed; pass --foreign-references "
            "cascade to delete the rows that refer to rows this run deletes (counted and reported)")
    graph = {k.table: set() for k in keys}
    for k in keys:
        if k.parent in graph:
            graph[k.parent].add(k.table)  # a referring table's rows go before the rows they refer to
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise DatabaseStateError(f"tables hotelseed does not own refer to each other in a cycle ({', '.join(exc.args[1])}): "
                                 "delete their rows that refer to the module data first; nothing was changed") from None
    return {table: _doomed(table, keys, keep_staff) for table in order}


FOREIGN = " (not hotelseed's)"  # marks a table hotelseed does not own in the counts of rows deleted


def foreign_label(table: str) -> str:
    return table + FOREIGN


def foreign_deleted(deleted: dict[str, int]) -> dict[str, int]:
    """Rows of tables hotelseed does not own, by table, in a cleanup's counts (count_plan, CleanupResult)."""
    return {name.removesuffix(FOREIGN): n for name, n in deleted.items() if name.endswith(FOREIGN)}


def count_plan(conn: Connection, keep_staff: bool, foreign: str = REFUSE) -> dict[str, int]:
    """Rows a cleanup would delete, per table (for --dry-run and confirmation prompts). Refuses foreign
    references unless `foreign` is cascade (foreign_rows)."""
    out = {foreign_label(t): int(conn.execute(sa.text(f"SELECT count(*) FROM {t} WHERE {where}")).scalar())
           for t, where in foreign_rows(conn, keep_staff, foreign).items()}
    out |= {t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()) for t in delete_order()}
    out["users (guests and members)"] = int(conn.execute(sa.text(f"SELECT count(*) FROM ({GUEST_USERS_SQL}) g")).scalar())
    if not keep_staff:
        out["users (seeded staff)"] = int(conn.execute(sa.text(f"SELECT count(*) FROM ({SEEDED_STAFF_SQL}) s")).scalar())
    return out


def cleanup(conn: Connection, keep_staff: bool = True, foreign: str = REFUSE) -> CleanupResult:
    """Delete all module data and guest/member users; seeded staff too unless keep_staff. In the caller's
    transaction. The superadmin and staff not created by hotelseed are always kept. Rows of tables hotelseed
    does not own that refer to rows it deletes: refused, or deleted first with foreign=cascade (foreign_rows)."""
    deleted: dict[str, int] = {}
    for table, where in foreign_rows(conn, keep_staff, foreign).items():
        deleted[foreign_label(table)] = conn.execute(sa.text(f"DELETE FROM {table} WHERE {where}")).rowcount
    order = delete_order()
    # TRUNCATE refuses a table that another table's foreign key refers to, even with no row referring to it.
    referred = bool(deleted) and any(k.parent in MODULE_TABLES for k in foreign_references(conn))
    if conn.dialect.name == "postgresql" and not referred:
        # One TRUNCATE of all module tables: transactional on PostgreSQL, and unlike DELETE it leaves no dead
        # rows for the foreign-key checks of the user deletions below to scan.
        for table in order:
            deleted[table] = int(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar())
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in order)))
        truncated = frozenset(order)
    else:
        truncated = frozenset()
        for table in order:
            deleted[table] = conn.execute(sa.text(f'DELETE FROM "{table}"')).rowcount
    # Step 5: users with only GUEST or MEMBER roles (or none), and their roles.
    deleted["users (guests and members)"] = conn.execute(sa.text(f"DELETE FROM users WHERE id IN ({GUEST_USERS_SQL})")).rowcount
    if not keep_staff:
        deleted["users (seeded staff)"] = conn.execute(sa.text(f"DELETE FROM users WHERE id IN ({SEEDED_STAFF_SQL})")).rowcount
    # Their roles go by ON DELETE CASCADE; swept here too, so cleanup is right while foreign keys are set aside
    # (hotelseed shard abandon).
    conn.execute(sa.text("DELETE FROM user_roles WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = user_roles.user_id)"))
    return CleanupResult(deleted, truncated)
