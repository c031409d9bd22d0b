"""Cleanup: delete the module data in an order derived from the schema's foreign keys (children first).

The spec's five steps (communication hub → booking-related → bookings → loyalty → guest users) label the
tables; the order comes from the foreign keys, so a new table or FK can never make it wrong. The catalogue
(organization, properties, room types, rooms, rate plans, tiers, rules, perks, items, roles) is never wiped.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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


def count_plan(conn: Connection, keep_staff: bool) -> dict[str, int]:
    """Rows a cleanup would delete, per table (for --dry-run and confirmation prompts)."""
    out = {t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()) for t in delete_order()}
    out["users (guests and members)"] = int(conn.execute(sa.text(f"SELECT count(*) FROM ({GUEST_USERS_SQL}) g")).scalar())
    if not keep_staff:
        out["users (seeded staff)"] = int(conn.execute(sa.text(f"SELECT count(*) FROM ({SEEDED_STAFF_SQL}) s")).scalar())
    return out


def cleanup(conn: Connection, keep_staff: bool = True) -> CleanupResult:
    """Delete all module data and guest/member users; seeded staff too unless keep_staff. In the caller's
    transaction. The superadmin and staff not created by hotelseed are always kept."""
    deleted: dict[str, int] = {}
    order = delete_order()
    if conn.dialect.name == "postgresql":
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
