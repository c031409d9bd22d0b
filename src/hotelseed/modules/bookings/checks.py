"""Booking and inventory invariants (platform.md §4.2 inv. 5-12, §4.5 chronology)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import defaultdict

import numpy as np
import sqlalchemy as sa

from hotelseed.core.checks import Check, cents, epoch, epoch_day, fetch
from hotelseed.modules.bookings.models import OTA_SOURCES, STAY_STATUS_OF

M = "bookings"
OTA = "(" + ", ".join(f"'{s}'" for s in OTA_SOURCES) + ")"
LIVE = "('CONFIRMED','CHECKED_IN','CHECKED_OUT')"
DAY = 86_400


def params_for(conn, plan_or_as_of=None) -> dict:
    """as_of (epoch seconds) from the plan, or the latest seed run; the profile when known."""
    as_of, profile = None, None
    if plan_or_as_of is not None and hasattr(plan_or_as_of, "as_of"):
        as_of, profile = plan_or_as_of.as_of, plan_or_as_of.profile
    elif isinstance(plan_or_as_of, int):
        as_of = plan_or_as_of
    if as_of is None:
        row = conn.execute(sa.text("SELECT as_of FROM seed_runs ORDER BY id DESC LIMIT 1")).first()
        as_of = _epoch(row[0]) if row else int(dt.datetime.now(dt.timezone.utc).timestamp())
    return {"as_of": int(as_of), "_profile": profile}


def _epoch(v) -> int:
    if v is None:
        return None
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return int(v.timestamp())


def _day(v) -> int:
    if isinstance(v, str):
        v = dt.date.fromisoformat(v[:10])
    return (v - dt.date(1970, 1, 1)).days


class _Local:
    """Local calendar days of UTC instants, per property timezone (cached per day)."""

    def __init__(self, conn):
        self.tz = {pid: zoneinfo.ZoneInfo(tz) for pid, tz in fetch(conn, "SELECT id, timezone FROM properties")}

    def day(self, pid, ts: int) -> int:
        local = dt.datetime.fromtimestamp(ts, self.tz[pid])
        return (local.date() - dt.date(1970, 1, 1)).days


def _calendar(conn, params):
    """Status agrees with the calendar at as_of (inv. 7), in the property's own time zone."""
    as_of = params["as_of"]
    loc = _Local(conn)
    rows = fetch(conn, "SELECT id, property_id, status, source, check_in, check_out, created_at, hold_expires_at, "
                       "checked_in_at, checked_out_at FROM bookings")
    bad = []
    for bid, pid, st, src, ci, co, created, hold_exp, cin, cout in rows:
        ci, co = _day(ci), _day(co)
        created, hold_exp, cin, cout = map(_epoch, (created, hold_exp, cin, cout))
        today = loc.day(pid, as_of)
        booked_day = loc.day(pid, created)
        ok = created <= as_of and booked_day <= ci
        if src == "WALK_IN":
            ok &= booked_day == ci
        if st == "HOLD":
            ok &= hold_exp is not None and hold_exp > as_of
        elif st in ("PENDING", "CONFIRMED"):
            ok &= ci >= today
        elif st == "CHECKED_IN":
            ok &= ci <= today <= co and cin is not None and cin <= as_of
        elif st in ("CHECKED_OUT", "COMPLETED"):
            ok &= cout is not None and cout <= as_of
        elif st == "NO_SHOW":
            ok &= ci < today
        if not ok:
            bad.append(bid)
    return len(rows), bad


def _assignment_times(conn, params):
    """checked_in_at falls on the check-in date, checked_out_at on the check-out date, local time (inv. 8)."""
    loc = _Local(conn)
    rows = fetch(conn, "SELECT b.id, b.property_id, b.check_in, b.check_out, b.checked_in_at, b.checked_out_at "
                       "FROM bookings b WHERE b.checked_in_at IS NOT NULL")
    bad = []
    for bid, pid, ci, co, cin, cout in rows:
        if loc.day(pid, _epoch(cin)) != _day(ci) or (cout is not None and loc.day(pid, _epoch(cout)) != _day(co)):
            bad.append(bid)
    return len(rows), bad


def _money_by_policy(conn, params):
    """A cancelled booking keeps what its policy says: 0 before free_until_hours, else pct of first night or
    total (inv. 9); the stays' nightly rates add up to the net amount; tax is the profile's per-night slab."""
    loc_tz = {pid: (zoneinfo.ZoneInfo(tz), cit) for pid, tz, cit in fetch(conn, "SELECT id, timezone, check_in_time FROM properties")}
    pol = {r[0]: r[1:] for r in fetch(conn, "SELECT id, free_until_hours, penalty_pct, penalty_basis FROM cancellation_policies")}
    stays = defaultdict(list)
    for bid, rates in fetch(conn, "SELECT booking_id, nightly_rates FROM stays ORDER BY id"):
        stays[bid].append(json.loads(rates) if isinstance(rates, str) else rates)
    profile = params.get("_profile")
    released = {r[0] for r in fetch(conn, "SELECT booking_id FROM hold_logs WHERE status = 'RELEASED'")}
    rows = fetch(conn, f"SELECT id, property_id, status, check_in, cancelled_at, cancellation_policy_id, "
                       f"{cents('net_amount')}, {cents('tax_amount')}, {cents('total_price')}, "
                       f"{cents('coalesce(cancellation_fee, 0)')}, rooms, created_at FROM bookings")
    bad = []
    for bid, pid, st, ci, cancelled_at, pol_id, net, tax, total, fee, rooms, created in rows:
        per_stay = stays.get(bid, [])
        nightly = [int(round(float(n["amount"]) * 100)) for n in per_stay[0]] if per_stay else []
        if len(per_stay) != rooms or sum(sum(int(round(float(n["amount"]) * 100)) for n in s) for s in per_stay) != net:
            bad.append(f"net:{bid}")
            continue
        if profile is not None:
            slabs = profile.tax_slabs
            want = 0
            for k, amount in enumerate(nightly):
                day = dt.date.fromisoformat(per_stay[0][k]["date"])
                table = [t for t in slabs if dt.date.fromisoformat(t["effective_from"]) <= day][-1]
                pct = next(s["pct"] for s in table["slabs"] if s.get("up_to") is None or amount <= s["up_to"] * 100)
                want += int(round(amount * pct / 100))
            if want * rooms != tax:
                bad.append(f"tax:{bid}")
                continue
        if st == "CANCELLED" and pol_id is not None:
            free_h, pct, basis = pol[pol_id]
            tz, cit = loc_tz[pid]
            h, m = map(int, cit.split(":"))
            ci_moment = dt.datetime.combine(dt.date.fromisoformat(str(ci)[:10]), dt.time(h, m), tz).timestamp()
            hours_before = (ci_moment - _epoch(cancelled_at)) / 3600
            first = (nightly[0] + _first_tax(profile, per_stay[0], nightly)) * rooms if nightly else 0
            if bid in released or (free_h is not None and hours_before >= free_h):
                expected = 0  # abandoned while on hold, or cancelled in the free window
            elif profile is None and basis == "FIRST_NIGHT":
                expected = fee  # the first night's tax needs the profile's slabs
            else:
                expected = min((first if basis == "FIRST_NIGHT" else total) * pct // 100, total)
            if fee != expected:
                bad.append(f"fee:{bid}")
    return len(rows), bad


def _first_tax(profile, stay, nightly) -> int:
    if profile is None:
        return 0
    day = dt.date.fromisoformat(stay[0]["date"])
    table = [t for t in profile.tax_slabs if dt.date.fromisoformat(t["effective_from"]) <= day][-1]
    pct = next(s["pct"] for s in table["slabs"] if s.get("up_to") is None or nightly[0] <= s["up_to"] * 100)
    return int(round(nightly[0] * pct / 100))


def _inventory(conn, params):
    """inventories.booked = live stays of the room type on the date; holds = rooms of ACTIVE holds (inv. 12)."""
    inv = fetch(conn, f"SELECT room_type_id, {epoch_day(conn.dialect.name, 'stay_date')}, booked, holds, id FROM inventories")
    if not inv:
        return 0, []
    first = min(r[1] for r in inv)
    last = max(r[1] for r in inv) + 1
    types = sorted({r[0] for r in inv})
    ti = {t: i for i, t in enumerate(types)}
    booked = np.zeros((len(types), last - first), dtype=np.int64)
    held = np.zeros_like(booked)
    d = conn.dialect.name
    for rt, a, z in fetch(conn, f"SELECT room_type_id, {epoch_day(d, 'check_in_date')}, {epoch_day(d, 'check_out_date')} "
                                f"FROM stays WHERE status IN {LIVE}"):
        if rt in ti:
            booked[ti[rt], max(a, first) - first:min(z, last) - first] += 1
    for rt, a, z, n in fetch(conn, f"SELECT room_type_id, {epoch_day(d, 'check_in')}, {epoch_day(d, 'check_out')}, rooms "
                                   f"FROM hold_logs WHERE status = 'ACTIVE'"):
        if rt in ti:
            held[ti[rt], max(a, first) - first:min(z, last) - first] += n
    bad = [r[4] for r in inv if booked[ti[r[0]], r[1] - first] != r[2] or held[ti[r[0]], r[1] - first] != r[3]]
    stays_outside = conn.execute(sa.text(
        f"SELECT count(*) FROM stays s WHERE s.status IN {LIVE} AND NOT EXISTS (SELECT 1 FROM inventories i WHERE "
        f"i.room_type_id = s.room_type_id AND i.stay_date = s.check_in_date)")).scalar()
    if stays_outside:
        bad.append(f"stays-without-inventory:{stays_outside}")
    return len(inv), bad


def _audit_chain(conn, params):
    """CREATE at created_at; each from_status = the previous to_status; the last = current status (inv. 10)."""
    d = conn.dialect.name
    rows = fetch(conn, f"SELECT l.booking_id, l.action, l.from_status, l.to_status, {epoch(d, 'l.created_at')}, "
                       f"{epoch(d, 'b.created_at')}, b.status FROM booking_audit_logs l JOIN bookings b ON b.id = l.booking_id "
                       f"ORDER BY l.booking_id, l.created_at, l.id")
    bad, prev_b, prev_to, prev_at = set(), None, None, None
    seen = set()
    last_to = {}
    for bid, action, frm, to, at, created, status in rows:
        if bid != prev_b:
            seen.add(bid)
            if action != "CREATE" or frm is not None or at != created:
                bad.add(bid)
        elif frm != prev_to or at < prev_at:
            bad.add(bid)
        last_to[bid] = (to, status)
        prev_b, prev_to, prev_at = bid, to, at
    bad |= {b for b, (to, st) in last_to.items() if to != st}
    total = conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar()
    missing = [r[0] for r in fetch(conn, "SELECT id FROM bookings b WHERE NOT EXISTS (SELECT 1 FROM booking_audit_logs l WHERE l.booking_id = b.id)")]
    return total, sorted(bad) + missing


def _holds(conn, params):
    """WEB_DIRECT bookings: a hold at created_at with the 15-min TTL, an outcome matching the booking, and a
    HOLD lock per night followed by BOOKED or RELEASE for the same nights (inv. 11)."""
    d = conn.dialect.name
    rows = fetch(conn, f"SELECT b.id, b.status, h.status, {epoch(d, 'h.created_at')}, {epoch(d, 'b.created_at')}, "
                       f"{epoch(d, 'h.expires_at')}, b.nights, b.rooms, h.hold_token, b.confirmed_at IS NOT NULL "
                       f"FROM bookings b LEFT JOIN hold_logs h ON h.booking_id = b.id WHERE b.source = 'WEB_DIRECT'")
    locks = defaultdict(lambda: defaultdict(int))
    for token, typ, change in fetch(conn, "SELECT hold_token, type, change FROM inventory_locks"):
        locks[token][typ] += 1
    bad = []
    for bid, bst, hst, h_at, b_at, exp, nights, rooms, token, confirmed in rows:
        want = {"HOLD": "ACTIVE", "FAILED": "EXPIRED"}.get(bst, "CONFIRMED" if confirmed else "RELEASED")
        lk = locks.get(token, {})
        follow = lk.get("BOOKED", 0) + lk.get("RELEASE", 0)
        if hst is None or h_at != b_at or exp - h_at != 900 or hst != want or lk.get("HOLD", 0) != nights or \
                follow != (0 if hst == "ACTIVE" else nights):
            bad.append(bid)
    return len(rows), bad


CHECKS = [
    Check("stays.no_overlap", "§4.2 inv. 5", M, "no room holds two live stays on the same night (half-open dates)",
          "SELECT count(*) FROM stays WHERE room_id IS NOT NULL AND status NOT IN ('CANCELLED','NO_SHOW')",
          # Sorted by arrival per room, a stay overlaps an earlier one iff it starts before the latest earlier
          # departure: one window pass instead of a self-join.
          "SELECT id FROM (SELECT id, check_in_date, MAX(check_out_date) OVER (PARTITION BY room_id ORDER BY "
          "check_in_date, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS busy_until FROM stays "
          "WHERE room_id IS NOT NULL AND status NOT IN ('CANCELLED','NO_SHOW')) x WHERE check_in_date < busy_until"),
    Check("stays.per_booking", "§4.2 inv. 6", M, "a booking has exactly `rooms` stays with its room type and dates",
          "SELECT count(*) FROM bookings",
          "SELECT b.id FROM bookings b WHERE b.rooms <> (SELECT count(*) FROM stays s WHERE s.booking_id = b.id) "
          "UNION SELECT s.booking_id FROM stays s JOIN bookings b ON b.id = s.booking_id WHERE s.room_type_id <> b.room_type_id "
          "OR s.check_in_date <> b.check_in OR s.check_out_date <> b.check_out OR s.property_id <> b.property_id"),
    Check("stays.status_follows_booking", "§4.2 inv. 6", M, "stay status is the one the booking status maps to",
          "SELECT count(*) FROM stays",
          "SELECT s.id FROM stays s JOIN bookings b ON b.id = s.booking_id WHERE CAST(s.status AS VARCHAR(16)) <> "
          "CASE CAST(b.status AS VARCHAR(16)) "
          + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STAY_STATUS_OF.items()) + " END"),
    Check("stays.room_is_booked_type_or_upgrade", "§4.2 inv. 6; facts: assigned room ≠ reserved", M,
          "a stay's room is of the booked type or of a higher-ranked type of the same property (an upgrade)",
          "SELECT count(*) FROM stays WHERE room_id IS NOT NULL",
          "SELECT s.id FROM stays s JOIN rooms r ON r.id = s.room_id JOIN room_types rt ON rt.id = r.room_type_id "
          "JOIN room_types bt ON bt.id = s.room_type_id WHERE rt.rank < bt.rank OR rt.property_id <> bt.property_id"),
    Check("stays.guests_fit_room_type", "§4.2 inv. 6; room_types.max_occupancy", M,
          "a stay's guests fit the booked room type (parties book a type they fit in)",
          "SELECT count(*) FROM stays",
          "SELECT s.id FROM stays s JOIN room_types t ON t.id = s.room_type_id WHERE s.num_guests > t.max_occupancy"),
    Check("stays.live_have_room", "§4.2 inv. 5-6", M, "every confirmed, in-house or checked-out stay is in a real room",
          f"SELECT count(*) FROM stays WHERE status IN {LIVE}", f"SELECT id FROM stays WHERE status IN {LIVE} AND room_id IS NULL"),
    Check("bookings.calendar", "§4.2 inv. 7", M,
          "status agrees with the calendar at as_of; created_at ≤ as_of; lead ≥ 0; walk-ins same day", fn=_calendar),
    Check("bookings.timeline", "§4.5", M,
          "created < confirmed < check-in ≤ checked_in_at < checked_out_at ≤ as_of; cancel before arrival",
          "SELECT count(*) FROM bookings",
          lambda d: f"SELECT id FROM bookings WHERE {epoch(d, 'created_at')} > :as_of "
          f"OR (confirmed_at IS NOT NULL AND (confirmed_at < created_at OR {epoch(d, 'confirmed_at')} > :as_of)) "
          f"OR (checked_in_at IS NOT NULL AND (confirmed_at IS NULL OR checked_in_at <= confirmed_at)) "
          f"OR (checked_out_at IS NOT NULL AND (checked_out_at <= checked_in_at OR {epoch(d, 'checked_out_at')} > :as_of)) "
          f"OR (cancelled_at IS NOT NULL AND ({epoch(d, 'cancelled_at')} > :as_of OR cancelled_at < created_at "
          f"OR {epoch_day(d, 'check_in')} * 86400 + 86400 < {epoch(d, 'cancelled_at')}))"),
    Check("assignments.by_desk_of_property", "§4.2 inv. 8", M,
          "every checked-in/out stay has an assignment to its room, made by a front-desk user or manager of the property",
          "SELECT count(*) FROM stays WHERE status IN ('CHECKED_IN','CHECKED_OUT')",
          "SELECT s.id FROM stays s WHERE s.status IN ('CHECKED_IN','CHECKED_OUT') AND NOT EXISTS ("
          "SELECT 1 FROM room_assignments a JOIN user_roles r ON r.user_id = a.assigned_by "
          "AND r.role_key IN ('STAFF_FRONTDESK','MANAGER') AND r.property_id = s.property_id "
          "WHERE a.stay_id = s.id AND a.room_id = s.room_id) "
          "UNION SELECT a.stay_id FROM room_assignments a JOIN bookings b ON b.id = a.booking_id "
          "WHERE a.assigned_at < b.created_at OR a.checked_in_at <> b.checked_in_at "
          "OR (b.checked_out_at IS NOT NULL AND a.checked_out_at <> b.checked_out_at)"),
    Check("assignments.local_times", "§4.2 inv. 8", M,
          "checked_in_at falls on the check-in date and checked_out_at on the check-out date (local time)",
          fn=_assignment_times),
    Check("money.settled", "§4.2 inv. 9", M,
          "checked-out bookings net to total; failed/rejected to 0; cancelled to their fee; never above total",
          "SELECT count(*) FROM bookings",
          "SELECT b.id FROM bookings b LEFT JOIN (SELECT booking_id, "
          f"sum(CASE WHEN kind = 'CHARGE' AND status IN ('COMPLETED','REFUNDED') THEN {cents('amount')} ELSE 0 END) - "
          f"sum(CASE WHEN kind = 'REFUND' AND status IN ('COMPLETED','PENDING') THEN {cents('amount')} ELSE 0 END) AS net "
          "FROM payments GROUP BY booking_id) p ON p.booking_id = b.id WHERE "
          f"(b.status IN ('CHECKED_OUT','COMPLETED') AND coalesce(p.net, 0) <> {cents('b.total_price')}) "
          "OR (b.status IN ('FAILED','REJECTED','PENDING') AND coalesce(p.net, 0) <> 0) "
          f"OR (b.status = 'CANCELLED' AND coalesce(p.net, 0) <> {cents('b.cancellation_fee')}) "
          f"OR coalesce(p.net, 0) < 0 OR coalesce(p.net, 0) > {cents('b.total_price')}"),
    Check("money.amounts", "§4.2 inv. 9", M,
          "total = net + tax; commission = pct × total for OTA, 0 otherwise; refunds point at a charge of the booking",
          "SELECT count(*) FROM bookings",
          f"SELECT id FROM bookings WHERE {cents('total_price')} <> {cents('net_amount')} + {cents('tax_amount')} "
          f"OR abs({cents('commission_amount')} - ROUND({cents('total_price')} * commission_pct / 100)) > 1 "
          f"OR (source IN {OTA} AND commission_pct <= 0) OR (source NOT IN {OTA} AND commission_pct <> 0) "
          "UNION SELECT r.booking_id FROM payments r LEFT JOIN payments c ON c.id = r.refund_of_payment_id "
          "WHERE r.kind = 'REFUND' AND (c.id IS NULL OR c.booking_id <> r.booking_id OR c.kind <> 'CHARGE')"),
    Check("money.payment_times", "§4.2 inv. 9", M, "payments fall inside [booking.created_at, as_of]",
          "SELECT count(*) FROM payments",
          lambda d: f"SELECT p.id FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE p.created_at < b.created_at "
          f"OR {epoch(d, 'p.created_at')} > :as_of OR (p.captured_at IS NOT NULL AND ({epoch(d, 'p.captured_at')} > :as_of "
          f"OR p.captured_at < p.created_at))"),
    Check("money.ota_paid_by_ota_or_hotel", "§4.2 inv. 9", M, "OTA bookings are paid by the OTA or at the hotel",
          f"SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.source IN {OTA}",
          f"SELECT p.id FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.source IN {OTA} "
          "AND p.method NOT IN ('OTA_COLLECT','BANK_TRANSFER','CASH','CARD','UPI','WALLET')"),
    Check("money.policy_rates_tax", "§4.2 inv. 9", M,
          "net = Σ stays' nightly rates; tax per night slab; cancellation fee as the policy says", fn=_money_by_policy),
    Check("audit.chain", "§4.2 inv. 10", M, "CREATE at created_at, transitions chain, last to_status = status",
          fn=_audit_chain),
    Check("audit.desk_actions_by_staff", "§4.2 inv. 10", M,
          "CHECK_IN/CHECK_OUT/NO_SHOW/ASSIGN_ROOM are performed by a front-desk user or manager of the property",
          "SELECT count(*) FROM booking_audit_logs WHERE action IN ('CHECK_IN','CHECK_OUT','NO_SHOW','ASSIGN_ROOM')",
          "SELECT l.id FROM booking_audit_logs l JOIN bookings b ON b.id = l.booking_id "
          "WHERE l.action IN ('CHECK_IN','CHECK_OUT','NO_SHOW','ASSIGN_ROOM') AND NOT EXISTS (SELECT 1 FROM user_roles r "
          "WHERE r.user_id = l.performed_by AND r.role_key IN ('STAFF_FRONTDESK','MANAGER') AND r.property_id = b.property_id)"),
    Check("holds.web_bookings", "§4.2 inv. 11", M,
          "every web booking has a 15-minute hold with the matching outcome and its locks per night", fn=_holds),
    Check("inventory.counters", "§4.2 inv. 12", M,
          "booked = live stays per type and date; holds = rooms of active holds", fn=_inventory),
    Check("inventory.overbooking", "§4.2 inv. 12; §4.1 inv. 2", M,
          "overbooked > 0 only where the property allows it; base_available = room type's base_rooms",
          "SELECT count(*) FROM inventories",
          "SELECT i.id FROM inventories i JOIN properties p ON p.id = i.property_id JOIN room_types t ON t.id = i.room_type_id "
          "WHERE (i.overbooked > 0 AND NOT p.overbooking_enabled) OR i.base_available <> t.base_rooms"),
]
