"""What a seed produced, read back from the database: counts, status mix, tiers, threads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.models import metadata


def _group(conn: Connection, sql: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in conn.execute(sa.text(sql)).all()}


def summarize(conn: Connection) -> dict:
    counts = {t.name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t.name}"')).scalar()) for t in metadata.sorted_tables}
    staff = _group(conn, "SELECT r.role_key || ' @ ' || coalesce(p.slug, 'organization'), count(*) FROM user_roles r "
                         "LEFT JOIN properties p ON p.id = r.property_id WHERE r.role_key IN "
                         "('STAFF_FRONTDESK','STAFF_OPS','MANAGER','ADMIN','SUPERADMIN') GROUP BY 1 ORDER BY 1")
    return {
        "counts": counts,
        "rows": sum(counts.values()),
        "booking_status": _group(conn, "SELECT status, count(*) FROM bookings GROUP BY status ORDER BY count(*) DESC"),
        "booking_source": _group(conn, "SELECT source, count(*) FROM bookings GROUP BY source ORDER BY count(*) DESC"),
        "tiers": _group(conn, "SELECT a.tier, count(*) FROM loyalty_accounts a JOIN tier_configs t ON t.tier = a.tier "
                              "GROUP BY a.tier, t.rank ORDER BY t.rank"),
        "threads_by_category": _group(conn, "SELECT category, count(*) FROM threads GROUP BY category ORDER BY count(*) DESC"),
        "threads_by_status": _group(conn, "SELECT status, count(*) FROM threads GROUP BY status ORDER BY count(*) DESC"),
        "thread_assignment": _group(conn, "SELECT coalesce(CAST(r.role_key AS VARCHAR(16)), 'UNASSIGNED'), count(*) FROM threads t LEFT JOIN "
                                          "user_roles r ON r.user_id = t.assigned_to AND r.property_id = t.property_id "
                                          "GROUP BY 1 ORDER BY 2 DESC"),
        "staff": staff,
    }
