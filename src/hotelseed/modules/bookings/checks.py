"""Booking and inventory invariants (platform.md §4.2 inv. 5-12, §4.5 chronology)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import numpy as np
import sqlalchemy as sa

from hotelseed.core.checks import Check, arrays, batches, cents, epoch, epoch_day, fetch, int_batches, ints, local_day, unindexed
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


def _properties(conn) -> list[tuple[int, str]]:
    return [(int(pid), tz) for pid, tz in fetch(conn, "SELECT id, timezone FROM properties ORDER BY id")]


def _local_date(col: str) -> str:
    """PostgreSQL: a timestamp's calendar date in its booking's property's time zone (`p` in the query)."""
    return f"CAST({col} AT TIME ZONE p.timezone AS DATE)"


def _epoch_pg(col: str) -> str:
    return epoch("postgresql", col)


_TODAY = _local_date("to_timestamp(:as_of)")  # as-of's date at the property

# Status against the calendar, in SQL where the database knows time zones (PostgreSQL): one query, the same
# rules as the NumPy ones in _calendar below (SQLite). Large: 3.1-4.0 s in Python → 0.5-0.6 s. A NULL timestamp
# fails a rule that needs it (coalesce), as in Python.
CALENDAR_PG = (
    "SELECT b.id FROM bookings b JOIN properties p ON p.id = b.property_id WHERE NOT ("
    f"{_epoch_pg('b.created_at')} <= :as_of AND {_local_date('b.created_at')} <= b.check_in "
    f"AND (b.source <> 'WALK_IN' OR {_local_date('b.created_at')} = b.check_in) "
    f"AND (b.status <> 'HOLD' OR coalesce({_epoch_pg('b.hold_expires_at')}, -1) > :as_of) "
    f"AND (b.status NOT IN ('PENDING','CONFIRMED') OR b.check_in >= {_TODAY}) "
    f"AND (b.status <> 'CHECKED_IN' OR (b.check_in <= {_TODAY} AND {_TODAY} <= b.check_out "
    f"AND coalesce({_epoch_pg('b.checked_in_at')}, :as_of + 1) <= :as_of)) "
    f"AND (b.status NOT IN ('CHECKED_OUT','COMPLETED') OR coalesce({_epoch_pg('b.checked_out_at')}, :as_of + 1) <= :as_of) "
    f"AND (b.status <> 'NO_SHOW' OR b.check_in < {_TODAY}))")

# Check-in and check-out on their dates, local time (PostgreSQL; large: 1.7-2.1 s in Python → 0.7-0.8 s).
ASSIGNMENT_TIMES_PG = (
    "SELECT b.id FROM bookings b JOIN properties p ON p.id = b.property_id WHERE b.checked_in_at IS NOT NULL AND "
    f"({_local_date('b.checked_in_at')} <> b.check_in OR coalesce({_local_date('b.checked_out_at')} <> b.check_out, FALSE))")


def _on_postgresql(sql: str):
    """A check's SQL on PostgreSQL; its Python (`fn`) on other databases."""
    return lambda d: sql if d == "postgresql" else None


def _calendar(conn, params):
    """Status agrees with the calendar at as_of (inv. 7), in the property's own time zone. Property by
    property, vectorised: memory holds one property's bookings. (SQLite; PostgreSQL runs CALENDAR_PG.)"""
    as_of = params["as_of"]
    d = conn.dialect.name
    checked, bad = 0, []
    for pid, tz in _properties(conn):
        bid, st, src, ci, co, created, hold_exp, cin, cout = arrays(conn, (
            f"SELECT id, status, source, {epoch_day(d, 'check_in')}, {epoch_day(d, 'check_out')}, "
            f"{epoch(d, 'created_at')}, {epoch(d, 'hold_expires_at')}, {epoch(d, 'checked_in_at')}, "
            f"{epoch(d, 'checked_out_at')} FROM bookings WHERE property_id = :p"), {"p": pid})
        if not len(bid):
            continue
        checked += len(bid)
        st = st.astype(str)
        ci, co, created = ints(ci), ints(co), ints(created)
        hold_exp, cin, cout = ints(hold_exp, -1), ints(cin, -1), ints(cout, -1)
        today = int(local_day(tz, np.array([as_of]))[0])
        booked_day = local_day(tz, created)
        ok = (created <= as_of) & (booked_day <= ci)
        ok &= (src.astype(str) != "WALK_IN") | (booked_day == ci)
        ok &= (st != "HOLD") | (hold_exp > as_of)
        ok &= ~np.isin(st, ["PENDING", "CONFIRMED"]) | (ci >= today)
        ok &= (st != "CHECKED_IN") | ((ci <= today) & (today <= co) & (cin >= 0) & (cin <= as_of))
        ok &= ~np.isin(st, ["CHECKED_OUT", "COMPLETED"]) | ((cout >= 0) & (cout <= as_of))
        ok &= (st != "NO_SHOW") | (ci < today)
        bad += [int(b) for b in bid[~ok]]
    return checked, bad


def _assignment_times(conn, params):
    """checked_in_at falls on the check-in date, checked_out_at on the check-out date, local time (inv. 8).
    (SQLite; PostgreSQL runs ASSIGNMENT_TIMES_PG.)"""
    d = conn.dialect.name
    checked, bad = 0, []
    for pid, tz in _properties(conn):
        bid, ci, co, cin, cout = arrays(conn, (
            f"SELECT id, {epoch_day(d, 'check_in')}, {epoch_day(d, 'check_out')}, {epoch(d, 'checked_in_at')}, "
            f"{epoch(d, 'checked_out_at')} FROM bookings WHERE property_id = :p AND checked_in_at IS NOT NULL"), {"p": pid})
        if not len(bid):
            continue
        checked += len(bid)
        cout = ints(cout, -1)
        out = cout >= 0
        wrong = local_day(tz, ints(cin)) != ints(ci)
        wrong |= out & (local_day(tz, np.where(out, cout, 0)) != ints(co))
        bad += [int(b) for b in bid[wrong]]
    return checked, bad


def _fence(d: str) -> str:
    """An optimisation fence closing a subquery (OFFSET 0; SQLite spells it LIMIT -1 OFFSET 0): without it the
    database inlines the subquery into its caller and computes each of its expressions again wherever the caller
    names it."""
    return "OFFSET 0" if d == "postgresql" else "LIMIT -1 OFFSET 0"


def _nights_sql(d: str) -> str:
    """Every night of every stay: (booking_id, amount in cents, date text), from the nightly_rates JSON, fenced
    (the tax formula names the amount a dozen times: PostgreSQL, medium seed, the money check 1.6 s → 1.1 s)."""
    if d == "postgresql":
        return ("SELECT s.booking_id, CAST(ROUND(CAST(r->>'amount' AS NUMERIC) * 100) AS BIGINT) AS amt, "
                "r->>'date' AS night FROM stays s CROSS JOIN LATERAL jsonb_array_elements(s.nightly_rates) r "
                + _fence(d))
    return ("SELECT s.booking_id, CAST(ROUND(CAST(json_extract(r.value, '$.amount') AS REAL) * 100) AS INTEGER) AS amt, "
            "json_extract(r.value, '$.date') AS night FROM stays s, json_each(s.nightly_rates) r " + _fence(d))


def _tax_pct_sql(profile, amount: str, night: str) -> str:
    """SQL for the profile's tax rate of one night, in hundredths of a percent: the slab table in force on the
    night, the slab its amount (cents) falls in."""
    cases = []
    for table in sorted(profile.tax_slabs, key=lambda t: t["effective_from"], reverse=True):
        slab_cases = []
        for slab in table["slabs"]:
            pct = int(round(float(slab["pct"]) * 100))
            cond = "1 = 1" if slab.get("up_to") is None else f"{amount} <= {int(round(float(slab['up_to']) * 100))}"
            slab_cases.append(f"WHEN {cond} THEN {pct}")
        cases.append(f"WHEN {night} >= '{table['effective_from']}' THEN (CASE {' '.join(slab_cases)} END)")
    return f"(CASE {' '.join(cases)} ELSE 0 END)"


def _half_even_sql(v: str) -> str:
    """v / 10000 in integers, rounded half to even as the generator (NumPy) rounds the tax."""
    q, r = f"({v} / 10000)", f"({v} % 10000)"
    return f"({q} + CASE WHEN 2 * {r} > 10000 OR (2 * {r} = 10000 AND {q} % 2 = 1) THEN 1 ELSE 0 END)"


def _money_by_policy(conn, params):
    """The stays' nightly rates add up to the net amount, tax is the profile's per-night slab (both in SQL), and a
    cancelled booking keeps what its policy says: 0 before free_until_hours, else pct of the first night or of
    the total (inv. 9; Python, for cancelled bookings only, in batches)."""
    d = conn.dialect.name
    profile = params.get("_profile")
    # Each night's amount × rate (v), fenced: computed once, not once for each of the four times the rounding
    # names it (large, PostgreSQL, this query alternating old and new: 3.0-3.5 → 2.8-2.9 s).
    pct = _tax_pct_sql(profile, "n0.amt", "n0.night") if profile is not None else "0"
    taxed = f"SELECT n0.booking_id, n0.amt, n0.amt * {pct} AS v FROM ({_nights_sql(d)}) n0 {_fence(d)}"
    bad = [f"net:{r[0]}" if r[1] else f"tax:{r[0]}" for r in fetch(conn, (
        f"SELECT b.id, coalesce(x.net, -1) <> {cents('b.net_amount')} FROM bookings b LEFT JOIN "
        f"(SELECT n.booking_id, SUM(n.amt) AS net, SUM({_half_even_sql('n.v')}) AS tax FROM ({taxed}) n "
        "GROUP BY n.booking_id) x "
        f"ON x.booking_id = b.id WHERE coalesce(x.net, -1) <> {cents('b.net_amount')}"
        + (f" OR x.tax <> {cents('b.tax_amount')}" if profile is not None else "")))]
    pol = {r[0]: r[1:] for r in fetch(conn, "SELECT id, free_until_hours, penalty_pct, penalty_basis FROM cancellation_policies")}
    # The first night of the booking's first stay (JSON text), looked up by index for each cancelled booking (a
    # sixth of them), not numbered over all the stays (medium seed: 89 → 35 ms a property).
    first_night = ("(f.nightly_rates->>0)" if d == "postgresql" else "json_extract(f.nightly_rates, '$[0]')")
    first_stay_night = f"(SELECT {first_night} FROM stays f WHERE f.booking_id = b.id ORDER BY f.id LIMIT 1)"
    # Each property's time zone and check-in time, and the tax slab tables, read once (not per booking).
    slab_tables = _slab_tables(profile)
    check_in_clock = {pid: (zoneinfo.ZoneInfo(tz), dt.time(*map(int, cit.split(":"))))
                      for pid, tz, cit in fetch(conn, "SELECT id, timezone, check_in_time FROM properties")}
    # One pass over every cancelled booking, in batches. A query per property (for its time zone) read the
    # RELEASED holds whole each time (the EXISTS became a hashed scan of hold_logs): 100 properties × the table.
    for rows in batches(conn, (
            f"SELECT b.id, b.check_in, {epoch(d, 'b.cancelled_at')}, b.cancellation_policy_id, {cents('b.total_price')}, "
            f"{cents('coalesce(b.cancellation_fee, 0)')}, b.rooms, b.property_id, "
            "EXISTS (SELECT 1 FROM hold_logs h WHERE h.booking_id = b.id AND h.status = 'RELEASED'), "
            f"{first_stay_night} FROM bookings b "
            "WHERE b.status = 'CANCELLED' AND b.cancellation_policy_id IS NOT NULL")):
        for bid, ci, cancelled_at, pol_id, total, fee, rooms, pid, released, first in rows:
            first = json.loads(first) if first is not None else {}
            amount, night = first.get("amount"), first.get("date")
            free_h, pct, basis = pol[pol_id]
            tz, check_in_time = check_in_clock[pid]
            ci_moment = dt.datetime.combine(dt.date.fromisoformat(str(ci)[:10]), check_in_time, tz).timestamp()
            hours_before = (ci_moment - int(cancelled_at)) / 3600
            nightly = int(round(float(amount) * 100)) if amount is not None else 0
            first_night = (nightly + _first_tax(slab_tables, night, nightly)) * rooms if amount is not None else 0
            if released or (free_h is not None and hours_before >= free_h):
                expected = 0  # abandoned while on hold, or cancelled in the free window
            elif profile is None and basis == "FIRST_NIGHT":
                expected = fee  # the first night's tax needs the profile's slabs
            else:
                expected = min((first_night if basis == "FIRST_NIGHT" else total) * pct // 100, total)
            if fee != expected:
                bad.append(f"fee:{bid}")
    return int(conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar()), bad


def _slab_tables(profile) -> list[tuple[dt.date, list]]:
    """The profile's tax slab tables as (effective from, slabs), in the profile's order; none without a profile."""
    return [] if profile is None else [(dt.date.fromisoformat(t["effective_from"]), t["slabs"])
                                       for t in profile.tax_slabs]


def _first_tax(slab_tables: list[tuple[dt.date, list]], night: str | None, nightly: int) -> int:
    if not slab_tables or night is None:
        return 0
    day = dt.date.fromisoformat(str(night)[:10])
    in_force = [slabs for since, slabs in slab_tables if since <= day]
    if not in_force:  # a night before the profile's first tax table: no tax, as the generator and _tax_pct_sql say
        return 0
    slabs = in_force[-1]
    pct = next(s["pct"] for s in slabs if s.get("up_to") is None or nightly <= s["up_to"] * 100)
    return int(round(nightly * pct / 100))


def _inventory(conn, params):
    """inventories.booked = live stays of the room type on the date; holds = rooms of ACTIVE holds (inv. 12).

    The counts are rebuilt on one calendar grid (room type × date of the inventory horizon, a difference array
    per table, then a running sum), each table read once in batches. Memory is the grid: the catalogue's size
    (xlarge: 465 room types × 1,294 days, 5 MB), not the bookings'. A query per property read the stays and holds
    tables whole each time (neither has a property index), which grew with properties × rows: xlarge 19.2 s,
    7× large's time for 3.3× the rows."""
    d = conn.dialect.name
    types = ints(arrays(conn, "SELECT id FROM room_types ORDER BY id")[0])
    span = conn.execute(sa.text(f"SELECT min({epoch_day(d, 'stay_date')}), max({epoch_day(d, 'stay_date')}), count(*) "
                                "FROM inventories")).one()
    if not span[2]:
        return 0, []
    first, last = int(span[0]), int(span[1]) + 1  # last: the day after the horizon, where every clipped stay ends

    def grid(sql: str) -> np.ndarray:
        """Rooms in use per (room type, day): +n on the first night, −n on the day of departure, summed."""
        cells = np.zeros((len(types), last - first + 1), dtype=np.int64)
        for batch in int_batches(conn, sql):
            row = np.searchsorted(types, batch[:, 0])
            a, z = (np.clip(batch[:, k], first, last) - first for k in (1, 2))
            np.add.at(cells, (row, a), batch[:, 3])
            np.add.at(cells, (row, z), -batch[:, 3])
        return np.cumsum(cells, axis=1)

    want_booked = grid(f"SELECT room_type_id, {epoch_day(d, 'check_in_date')}, {epoch_day(d, 'check_out_date')}, 1 "
                       f"FROM stays WHERE status IN {LIVE}")
    want_held = grid(f"SELECT room_type_id, {epoch_day(d, 'check_in')}, {epoch_day(d, 'check_out')}, rooms "
                     "FROM hold_logs WHERE status = 'ACTIVE'")
    checked, bad = 0, []
    for batch in int_batches(conn, f"SELECT id, room_type_id, {epoch_day(d, 'stay_date')}, booked, holds FROM inventories"):
        checked += len(batch)
        row, col = np.searchsorted(types, batch[:, 1]), batch[:, 2] - first
        wrong = (want_booked[row, col] != batch[:, 3]) | (want_held[row, col] != batch[:, 4])
        bad += [int(i) for i in batch[wrong, 0]]
    stays_outside = conn.execute(sa.text(
        f"SELECT count(*) FROM stays s WHERE s.status IN {LIVE} AND NOT EXISTS (SELECT 1 FROM inventories i WHERE "
        f"i.room_type_id = s.room_type_id AND i.stay_date = s.check_in_date)")).scalar()
    if stays_outside:
        bad.append(f"stays-without-inventory:{stays_outside}")
    return checked, bad


# CREATE at created_at; each from_status = the previous to_status; the last to_status = the booking's status.
AUDIT_CHAIN = (
    # One window pass over the bookings joined to their logs (both read in booking order from their indexes);
    # a booking without logs comes out of the outer join as one row with no log. to_status is NOT NULL, so the
    # first log is the one without a previous to_status, and the last the one without a next id (two window
    # functions, no row number). Medium preset, PostgreSQL: 1.55 s as a window over the logs alone, a join and an
    # anti-join; 0.88 s so. SQLite takes ~3.6 s either way (its window machinery, not the functions, costs).
    # Statuses are compared as stored (one enum type on PostgreSQL, text on SQLite). A booking counts once,
    # however many of its rows break the chain.
    "SELECT DISTINCT x.id FROM (SELECT b.id, b.created_at AS booked_at, b.status, l.id AS log_id, l.action, "
    "l.from_status AS frm, l.to_status AS tos, l.created_at, LAG(l.to_status) OVER w AS prev_to, "
    "LEAD(l.id) OVER w AS next_id FROM bookings b LEFT JOIN booking_audit_logs l ON l.booking_id = b.id "
    "WINDOW w AS (PARTITION BY b.id ORDER BY l.created_at, l.id)) x WHERE x.log_id IS NULL "
    "OR (x.prev_to IS NULL AND (x.action <> 'CREATE' OR x.frm IS NOT NULL OR x.created_at <> x.booked_at)) "
    "OR (x.prev_to IS NOT NULL AND (x.frm IS NULL OR x.frm <> x.prev_to)) "
    "OR (x.next_id IS NULL AND x.tos <> x.status)")

# Web bookings: a hold at created_at with the 15-minute TTL, the outcome matching the booking, and a HOLD lock per
# night followed by BOOKED or RELEASE for the same nights (inv. 11).
WEB_HOLDS = (
    "SELECT b.id FROM bookings b LEFT JOIN hold_logs h ON h.booking_id = b.id LEFT JOIN (SELECT hold_token, "
    "SUM(CASE WHEN type = 'HOLD' THEN 1 ELSE 0 END) AS held, "
    "SUM(CASE WHEN type IN ('BOOKED','RELEASE') THEN 1 ELSE 0 END) AS follow FROM inventory_locks GROUP BY hold_token) k "
    "ON k.hold_token = h.hold_token WHERE b.source = 'WEB_DIRECT' AND (h.id IS NULL OR h.created_at <> b.created_at "
    "OR {expiry} <> 900 OR CAST(h.status AS VARCHAR(16)) <> CASE CAST(b.status AS VARCHAR(16)) WHEN 'HOLD' THEN 'ACTIVE' "
    "WHEN 'FAILED' THEN 'EXPIRED' ELSE CASE WHEN b.confirmed_at IS NOT NULL THEN 'CONFIRMED' ELSE 'RELEASED' END END "
    "OR coalesce(k.held, 0) <> b.nights OR coalesce(k.follow, 0) <> CASE WHEN h.status = 'ACTIVE' THEN 0 ELSE b.nights END)")


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
          # One join grouped by booking, not a count per booking and a second join (large, PostgreSQL: 1.7-2.3 →
          # 0.8-1.0 s; SQLite about the same, 0.9-1.7 against 0.9-1.3 s).
          "SELECT b.id FROM bookings b LEFT JOIN stays s ON s.booking_id = b.id GROUP BY b.id, b.rooms "
          "HAVING count(s.id) <> b.rooms OR SUM(CASE WHEN s.room_type_id <> b.room_type_id OR s.check_in_date <> b.check_in "
          "OR s.check_out_date <> b.check_out OR s.property_id <> b.property_id THEN 1 ELSE 0 END) > 0"),
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
          "status agrees with the calendar at as_of; created_at ≤ as_of; lead ≥ 0; walk-ins same day",
          "SELECT count(*) FROM bookings", _on_postgresql(CALENDAR_PG), fn=_calendar),
    Check("bookings.timeline", "§4.5", M,
          "created < confirmed < check-in ≤ checked_in_at < checked_out_at ≤ as_of; cancel before arrival",
          "SELECT count(*) FROM bookings",
          lambda d: f"SELECT id FROM bookings WHERE {epoch(d, 'created_at')} > :as_of "
          f"OR (confirmed_at IS NOT NULL AND (confirmed_at < created_at OR {epoch(d, 'confirmed_at')} > :as_of)) "
          f"OR (checked_in_at IS NOT NULL AND (confirmed_at IS NULL OR checked_in_at <= confirmed_at)) "
          f"OR (checked_out_at IS NOT NULL AND (checked_out_at <= checked_in_at OR {epoch(d, 'checked_out_at')} > :as_of)) "
          f"OR (cancelled_at IS NOT NULL AND ({epoch(d, 'cancelled_at')} > :as_of OR cancelled_at < created_at "
          f"OR CAST({epoch_day(d, 'check_in')} AS BIGINT) * 86400 + 86400 < {epoch(d, 'cancelled_at')}))"),
    Check("assignments.by_desk_of_property", "§4.2 inv. 8", M,
          "every checked-in/out stay has an assignment to its room, made by a front-desk user or manager of the property",
          "SELECT count(*) FROM stays WHERE status IN ('CHECKED_IN','CHECKED_OUT')",
          # The outer columns in WHERE, not in the join's ON: PostgreSQL then plans a hash anti-join instead of
          # a subquery per stay (large: 2.8 -> 1.0 s).
          "SELECT s.id FROM stays s WHERE s.status IN ('CHECKED_IN','CHECKED_OUT') AND NOT EXISTS ("
          "SELECT 1 FROM room_assignments a JOIN user_roles r ON r.user_id = a.assigned_by "
          "WHERE r.role_key IN ('STAFF_FRONTDESK','MANAGER') AND r.property_id = s.property_id "
          "AND a.stay_id = s.id AND a.room_id = s.room_id) "
          "UNION SELECT a.stay_id FROM room_assignments a JOIN bookings b ON b.id = a.booking_id "
          "WHERE a.assigned_at < b.created_at OR a.checked_in_at <> b.checked_in_at "
          "OR (b.checked_out_at IS NOT NULL AND a.checked_out_at <> b.checked_out_at)"),
    Check("assignments.local_times", "§4.2 inv. 8", M,
          "checked_in_at falls on the check-in date and checked_out_at on the check-out date (local time)",
          "SELECT count(*) FROM bookings WHERE checked_in_at IS NOT NULL", _on_postgresql(ASSIGNMENT_TIMES_PG),
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
          # Almost half the bookings are OTA bookings: on SQLite, finding them through the source index cost a
          # random table read each (×7.2 from large to xlarge); the payments are read in order instead.
          lambda d: f"SELECT count(*) FROM payments p WHERE p.booking_id IN (SELECT id FROM bookings WHERE "
          f"{unindexed(d, 'source')} IN {OTA})",
          lambda d: f"SELECT p.id FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE {unindexed(d, 'b.source')} "
          f"IN {OTA} AND p.method NOT IN ('OTA_COLLECT','BANK_TRANSFER','CASH','CARD','UPI','WALLET')"),
    Check("money.policy_rates_tax", "§4.2 inv. 9", M,
          "net = Σ stays' nightly rates; tax per night slab; cancellation fee as the policy says", fn=_money_by_policy),
    Check("audit.chain", "§4.2 inv. 10", M, "CREATE at created_at, transitions chain, last to_status = status",
          "SELECT count(*) FROM bookings", AUDIT_CHAIN),
    Check("audit.desk_actions_by_staff", "§4.2 inv. 10", M,
          "CHECK_IN/CHECK_OUT/NO_SHOW/ASSIGN_ROOM are performed by a front-desk user or manager of the property",
          "SELECT count(*) FROM booking_audit_logs WHERE action IN ('CHECK_IN','CHECK_OUT','NO_SHOW','ASSIGN_ROOM')",
          "SELECT l.id FROM booking_audit_logs l JOIN bookings b ON b.id = l.booking_id "
          "WHERE l.action IN ('CHECK_IN','CHECK_OUT','NO_SHOW','ASSIGN_ROOM') AND NOT EXISTS (SELECT 1 FROM user_roles r "
          "WHERE r.user_id = l.performed_by AND r.role_key IN ('STAFF_FRONTDESK','MANAGER') AND r.property_id = b.property_id)"),
    Check("holds.web_bookings", "§4.2 inv. 11", M,
          "every web booking has a 15-minute hold with the matching outcome and its locks per night",
          "SELECT count(*) FROM bookings WHERE source = 'WEB_DIRECT'",
          lambda d: WEB_HOLDS.format(expiry=f"{epoch(d, 'h.expires_at')} - {epoch(d, 'h.created_at')}")),
    Check("inventory.counters", "§4.2 inv. 12", M,
          "booked = live stays per type and date; holds = rooms of active holds", fn=_inventory),
    Check("inventory.overbooking", "§4.2 inv. 12; §4.1 inv. 2", M,
          "overbooked > 0 only where the property allows it; base_available = room type's base_rooms",
          "SELECT count(*) FROM inventories",
          "SELECT i.id FROM inventories i JOIN properties p ON p.id = i.property_id JOIN room_types t ON t.id = i.room_type_id "
          "WHERE (i.overbooked > 0 AND NOT p.overbooking_enabled) OR i.base_available <> t.base_rooms"),
]
