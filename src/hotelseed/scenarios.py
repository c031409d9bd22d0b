"""The scenario catalogue: well-known records for QA and demos, found in the seeded data.

Nothing here is made up for the catalogue: every entry is a row the seed produced, picked by a fixed rule (the
lowest id that fits), so the same seed and as-of give the same catalogue. Each entry says what it is, how to
find it (ids, confirmation numbers, e-mails) and why it is worth a look. Staff logins carry the development
password only when the database is on this machine (guard.is_local_connection): a catalogue written for a shared database
names the users, never a credential.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core.checks import fetch
from hotelseed.modules.identity.generate import DEV_PASSWORD
from hotelseed.modules.identity.models import STAFF_ROLES

STATUS_WHY = {
    "HOLD": "a web checkout being paid for right now: the inventory hold expires in minutes",
    "PENDING": "waiting for the property to confirm (a phone or group request)",
    "CONFIRMED": "booked and paid or guaranteed; the guest has not arrived yet",
    "CHECKED_IN": "the guest is in the house: room assigned, stay running",
    "CHECKED_OUT": "a finished stay: payments settled, loyalty points earned if a member",
    "COMPLETED": "a corporate or group stay whose invoice was settled after check-out",
    "CANCELLED": "cancelled by the guest: the policy decided the fee, any prepayment was refunded",
    "NO_SHOW": "the guest never came: the first night was charged at the night audit",
    "REJECTED": "an OTA booking the property could not honour (no room left)",
    "FAILED": "a web checkout whose payment failed: the hold expired",
}


def _one(conn: Connection, sql: str, params: dict | None = None):
    row = conn.execute(sa.text(sql), params or {}).mappings().first()
    return dict(row) if row else None


def _booking(conn: Connection, where: str, params: dict | None = None):
    return _one(conn, "SELECT b.id, b.confirmation_number, b.status, p.slug AS property, b.guest_name, b.email, "
                      "b.check_in, b.check_out, b.source FROM bookings b JOIN properties p ON p.id = b.property_id "
                      f"WHERE {where} ORDER BY b.id LIMIT 1", params)


def _clean(entry: dict) -> dict:
    return {k: (str(v) if not isinstance(v, (int, float, str, bool, type(None), list, dict)) else v)
            for k, v in entry.items()}


def catalogue(conn: Connection, local: bool, as_of_day: str | None = None) -> list[dict]:
    """Every scenario the data holds (an entry is left out only if the data has no such record)."""
    out: list[dict] = []

    def add(kind: str, why: str, record: dict | None, **extra) -> None:
        if record:
            out.append(_clean({"scenario": kind, "why": why, **extra, **record}))

    # Logins: one per staff role at each property, and the organization's admins.
    for row in fetch(conn, "SELECT p.slug, r.role_key, min(u.email) FROM user_roles r JOIN users u ON u.id = r.user_id "
                           "JOIN properties p ON p.id = r.property_id WHERE r.role_key IN "
                           f"({', '.join(repr(r) for r in STAFF_ROLES)}) GROUP BY p.slug, r.role_key "
                           "ORDER BY p.slug, r.role_key"):
        slug, role, email = row
        add(f"login {role.lower()}", f"sign in as the {role.replace('_', ' ').lower()} of {slug}: sees what that role "
            f"may do at that property only", {"email": email, "property": slug, "role": role},
            password=DEV_PASSWORD if local else None)
    for role in ("SUPERADMIN", "ADMIN"):
        row = _one(conn, "SELECT min(u.email) AS email FROM users u JOIN user_roles r ON r.user_id = u.id "
                         "WHERE r.role_key = :r", {"r": role})
        if row and row["email"]:
            add(f"login {role.lower()}", "sign in with organization-wide rights", {"email": row["email"], "role": role},
                password=DEV_PASSWORD if local else None)
    # Members at each tier.
    for (tier,) in fetch(conn, "SELECT tier FROM tier_configs ORDER BY rank"):
        add(f"member {tier.lower()}", f"a member whose {tier} tier was earned by their replayed stays (see tier_history)",
            _one(conn, "SELECT a.id AS account_id, a.member_number, u.email, u.name, a.points_balance, a.lifetime_stays "
                       "FROM loyalty_accounts a JOIN users u ON u.id = a.user_id WHERE CAST(a.tier AS VARCHAR(16)) = :t "
                       "ORDER BY a.lifetime_stays DESC, a.id LIMIT 1", {"t": tier}))
    # A booking in each status.
    for status, why in STATUS_WHY.items():
        add(f"booking {status.lower()}", why, _booking(conn, "CAST(b.status AS VARCHAR(16)) = :s", {"s": status}))
    if as_of_day:
        arriving = _booking(conn, "CAST(b.status AS VARCHAR(16)) = 'CONFIRMED' AND b.check_in = :d", {"d": as_of_day}) \
            or _booking(conn, "CAST(b.status AS VARCHAR(16)) = 'CHECKED_IN' AND b.check_in = :d", {"d": as_of_day})
        add("booking arriving today", "arrives on the as-of date: the front desk's arrivals list and room assignment",
            arriving)
    open_threads = "CAST(t.status AS VARCHAR(24)) NOT IN ('RESOLVED','ARCHIVED')"
    add("booking with an open cancellation request", "the guest asked to cancel and the thread is still open: "
        "the agent decides under the booking's cancellation policy",
        _one(conn, "SELECT b.id, b.confirmation_number, CAST(b.status AS VARCHAR(16)) AS status, t.id AS thread_id, "
                   f"CAST(t.status AS VARCHAR(24)) AS thread_status FROM threads t JOIN bookings b ON b.id = t.booking_id "
                   f"WHERE t.topic = 'cancellation_request' AND {open_threads} ORDER BY t.id LIMIT 1"))
    add("unassigned booking thread", "nobody has picked it up: the hub's unassigned queue and SLA timers",
        _one(conn, "SELECT t.id AS thread_id, t.subject, CAST(t.status AS VARCHAR(24)) AS status, t.booking_id "
                   "FROM threads t WHERE t.category = 'BOOKING' AND t.assigned_to IS NULL ORDER BY t.id LIMIT 1"))
    add("escalated complaint", "a complaint escalated to the duty manager, who owns it",
        _one(conn, "SELECT t.id AS thread_id, t.subject, CAST(t.priority AS VARCHAR(16)) AS priority, u.email AS "
                   "assigned_to FROM threads t JOIN users u ON u.id = t.assigned_to JOIN user_roles r ON r.user_id = "
                   "t.assigned_to AND r.property_id = t.property_id AND r.role_key = 'MANAGER' WHERE t.is_escalated "
                   "AND t.topic = 'complaint' ORDER BY t.id LIMIT 1"))
    add("suppressed contact", "messages to this address or number must not be sent (bounce, complaint or opt-out)",
        _one(conn, "SELECT s.id AS suppression_id, CAST(s.channel AS VARCHAR(16)) AS channel, s.address, "
                   "CAST(s.reason AS VARCHAR(24)) AS reason FROM suppressions s ORDER BY s.id LIMIT 1"))
    add("member with a referral", "referred a friend who stayed: both earned the referral reward",
        _one(conn, "SELECT a.id AS account_id, u.email, f.referral_code, f.referred_id FROM referrals f JOIN "
                   "loyalty_accounts a ON a.id = f.referrer_id JOIN users u ON u.id = a.user_id WHERE "
                   "CAST(f.status AS VARCHAR(16)) = 'COMPLETED' ORDER BY f.id LIMIT 1"))
    add("member with a tier transfer", "received a tier as a gift from a PLATINUM or DIAMOND member",
        _one(conn, "SELECT a.id AS account_id, u.email, CAST(x.to_tier AS VARCHAR(16)) AS gifted_tier, "
                   "x.from_account_id FROM tier_transfers x JOIN loyalty_accounts a ON a.id = x.to_account_id JOIN "
                   "users u ON u.id = a.user_id WHERE CAST(x.status AS VARCHAR(16)) = 'COMPLETED' ORDER BY x.id LIMIT 1"))
    return out


def render(entries: list[dict], meta: dict) -> str:
    """scenarios.json's text (written with the seed's other files: outputs.Outputs)."""
    return json.dumps({**meta, "scenarios": entries}, indent=2, default=str) + "\n"
