"""Bookings, stays, guests, payments, room assignments, holds, inventory locks, inventories and audit trail.

For each property: requests (demand.py) → lifecycle intents drawn per booking (cancel, no-show, payment
failure, ...) → rooms placed in booking order (allocate.py) → the status each booking has at `as_of` →
timestamps, money, payments and the audit trail that lead to that status. Every table is produced as
columns; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hotelseed.core import partition
from hotelseed.core.columns import Columns, labels
from hotelseed.core.pgbinary import canonical_json
from hotelseed.core.fake import ascii_slug, phone_numbers
from hotelseed.core.ids import scrambled_codes, uuid_for
from hotelseed.core.rng import choose, sample_categorical
from hotelseed.modules.bookings.allocate import allocate
from hotelseed.modules.bookings.demand import (MAX_SCALE, Requests, cancel_probability, first_rate, member_behaviour,
                                               month_of, property_demand, segment_demand,
                                               shape_requests, weekday)
from hotelseed.modules.bookings.models import OTA_SOURCES, STAY_STATUS_OF
from hotelseed.modules.identity.generate import person_names
from hotelseed.plan import DAY, Plan, make_clock

NEVER = np.iinfo(np.int64).max // 2
GUEST_BLOCK = 10**8  # guest numbers: property index × GUEST_BLOCK + the guest's number at the property
LIVE_STAY = ("CONFIRMED", "CHECKED_IN", "CHECKED_OUT")
CANCEL_REASONS = np.array(["RequestedByGuest", "BookedElsewhere", "PriceTooHigh", "RequestedByBooker",
                           "ForceMajeure", "Other"], dtype=object)
CANCEL_REASON_W = [0.45, 0.2, 0.1, 0.12, 0.03, 0.1]
REQUESTS = np.array(["Late check-out", "Early check-in", "Quiet room", "High floor", "Extra pillow",
                     "Airport pickup", "Ground floor", "Twin beds"], dtype=object)
MAX_ROOMS = 6

# Uniform columns of Requests.u, by purpose (drawn with the request, so adding a purpose reorders nothing).
U_CANCEL, U_NOSHOW, U_FAIL, U_REJECT, U_PENDING, U_COMPLETE, U_CANCEL_AT, U_PLAN, U_PAY, U_ON_HOLD, \
    U_COMMISSION, U_STAFF, U_REQUEST, U_CHANGE, U_ROOM, U_MISC, U_PAYMODE, U_METHOD, U_REFUND, U_EXTRA, \
    U_UPGRADE, U_CANCEL_EARLY, U_PRICE, U_CANCEL_MOMENT = range(24)
CALIBRATION_PASSES = 4
OCCUPANCY_TOLERANCE = 0.01


@dataclass
class BookingFacts:
    """What later modules (loyalty, comms) need to know about the bookings, as arrays by booking row."""

    id: np.ndarray
    property_index: np.ndarray
    member: np.ndarray
    user_id: np.ndarray
    status: np.ndarray
    source: np.ndarray
    created_at: np.ndarray
    confirmed_at: np.ndarray
    cancelled_at: np.ndarray
    checked_in_at: np.ndarray
    checked_out_at: np.ndarray
    check_in: np.ndarray
    check_out: np.ndarray
    nights: np.ndarray
    total: np.ndarray
    prepaid: np.ndarray
    weekend: np.ndarray
    premium: np.ndarray
    off_season: np.ndarray
    guest_name: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    loyalty_linked: np.ndarray
    first_night: np.ndarray

    @staticmethod
    def concat(parts: list["BookingFacts"]) -> "BookingFacts":
        names = list(BookingFacts.__dataclass_fields__)
        if not parts:
            empty = {n: np.array([], dtype=object if n in ("user_id", "status", "source", "guest_name", "email",
                                                          "phone") else np.int64) for n in names}
            for n in ("prepaid", "weekend", "premium", "off_season", "loyalty_linked"):
                empty[n] = np.array([], dtype=bool)
            return BookingFacts(**empty)
        return BookingFacts(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


@dataclass
class BookingsOut:
    tables: dict[str, Columns] = field(default_factory=dict)
    facts: BookingFacts | None = None
    guest_user: dict = field(default_factory=dict)
    payment_inputs: tuple = ()

    def add_payments(self, award_night: np.ndarray) -> None:
        """The payments table, once the loyalty replay has said which bookings had a night paid in points."""
        self.tables["payments"] = _payments(*self.payment_inputs, award_night)


def guest_phone_index(property_index: np.ndarray, local: np.ndarray, n_properties: int) -> np.ndarray:
    """Guests' phone numbers interleave the properties (guest j of property p → j × n + p), so a scheme's
    numbers are shared evenly however many guests each property has."""
    return np.asarray(local, dtype=np.int64) * n_properties + np.asarray(property_index, dtype=np.int64)


def _p(outcomes: dict, channel: tuple[list, np.ndarray], key: str) -> np.ndarray:
    """Probability of an outcome per booking, by its channel (`labels` of the channels; OTA_* falls back to OTA)."""
    names, index = channel
    p = [float((outcomes.get(ch) or (outcomes.get("OTA") if str(ch).startswith("OTA_") else None) or {}).get(key, 0.0))
         for ch in names]
    return np.array(p, dtype=np.float64)[index]


def _tax(plan: Plan, night_day: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Per-night tax by slab, with the slab table in force on that night (profile tax_slabs)."""
    tax = np.zeros(len(rate), dtype=np.int64)
    epoch = np.datetime64("1970-01-01")
    tables = plan.profile.tax_slabs
    starts = [int((np.datetime64(t["effective_from"]) - epoch).astype(int)) for t in tables]
    which = np.searchsorted(np.array(starts), night_day, side="right") - 1
    for ti, table in enumerate(tables):
        m = which == ti
        if not m.any():
            continue
        pct = np.zeros(int(m.sum()))
        r = rate[m]
        assigned = np.zeros(len(r), dtype=bool)
        for slab in table["slabs"]:
            up = slab.get("up_to")
            hit = ~assigned & ((r <= up * 100) if up is not None else True)
            pct[hit] = slab["pct"]
            assigned |= hit
        tax[m] = np.round(r * pct / 100).astype(np.int64)
    return tax


def _in_flight_carts(plan: Plan, pw, rng, as_of_day: int) -> Requests:
    """Web bookings being paid for at as_of (HOLD): created in the hold TTL window just before as_of."""
    hold_s = int(plan.profile.demand.get("hold_minutes", 15)) * 60
    k = 1 + rng.poisson(0.5)
    arrival = as_of_day + 1 + np.floor(7 * np.exp(1.0 * rng.standard_normal(k))).astype(np.int64).clip(0, 120)
    arrival = np.minimum(arrival, plan.future_end_day - 1)
    r = shape_requests(plan, pw, rng, arrival, np.full(k, "WEB_DIRECT", dtype=object), np.full(k, -1),
                       np.full(k, _web_segment(plan.profile)))
    r.created_at = plan.as_of - (30 + rng.random(k) * (hold_s - 120)).astype(np.int64)
    r.keep[:] = 0.0
    r.u[:, U_FAIL] = 1.0  # not failed: still paying
    r.u[:, U_PAY] = 1.0  # the payment has not been captured yet
    r.u[:, U_ON_HOLD] = 1.0
    r.u[:, U_CANCEL] = 1.0
    return r


def _web_segment(profile) -> int:
    for i, sg in enumerate(profile.segments):
        if sg.channels.get("WEB_DIRECT", 0) > 0:
            return i
    return member_behaviour(profile)


def _occupancy(plan: Plan, pw, res: dict, as_of_day: int) -> float:
    """Share of room-nights of the history window sold to stays that happened (or are happening)."""
    req, status = res["req"], res["status"]
    stayed = np.isin(status, ["CHECKED_IN", "CHECKED_OUT", "COMPLETED"])
    first, last = plan.history_start_day, min(as_of_day, plan.future_end_day)
    a = np.clip(req.arrival[stayed], first, last)
    z = np.clip(req.arrival[stayed] + req.nights[stayed], first, last)
    sold = float(((z - a) * req.rooms[stayed]).sum())
    capacity = float(pw.room_type_count.sum()) * max(last - first, 1)
    return sold / capacity


# Members' bookings are placed before anyone else's at a property (a loyalty programme's room guarantee, as
# Marriott's Ultimate Reservation Guarantee or Hilton's Diamond guarantee): their outcome then depends only on
# members' own trips, so the loyalty replay can run before any property is simulated, and every partition
# (process, shard) that needs members' bookings computes the same ones.
MEMBER_FIRST = 10**11
TRIPS_PER_MEMBER = 10**4


def member_booking_ids(member: np.ndarray, trip: np.ndarray) -> np.ndarray:
    """A member's booking id: (member + 1) × 10^4 + the trip's number, the same in every partition and shard,
    and stable when members are added (below partition 1's id range for up to 999,999 members)."""
    return (np.asarray(member, dtype=np.int64) + 1) * TRIPS_PER_MEMBER + np.asarray(trip, dtype=np.int64)


def _clock(plan: Plan, pw):
    clock = make_clock(pw.timezone, plan.history_start_day - 800, plan.inventory_end_day + 2)
    return clock, int(clock.local_day(np.array([plan.as_of]))[0])


def _bookable(plan: Plan, clock, cand: Requests) -> Requests:
    """Requests that exist at as_of, in the order they were made. A booking exists once made (created <= as_of)
    and before the guest arrives; a web checkout (hold, payment, confirmation) takes up to ~11 minutes, so it
    must start 20 minutes before arrival."""
    checkin_ts = clock.utc(cand.arrival, cand.checkin_sod)
    margin = np.where(cand.channel == "WEB_DIRECT", 1200, 60)
    cand = cand.take(np.flatnonzero((cand.created_at <= plan.as_of) & (cand.created_at < checkin_ts - margin)))
    return cand.take(np.lexsort((cand.trip, cand.member, cand.arrival, cand.created_at)))


def simulate_members(plan: Plan, world, pi: int, members: Requests | None) -> dict | None:
    """The fate of members' own bookings at property `pi`: the same as in the property's full simulation,
    where they are placed first."""
    if members is None or not len(members):
        return None
    pw = world.properties[pi]
    clock, as_of_day = _clock(plan, pw)
    req = _bookable(plan, clock, members)
    return _lifecycle(plan, world, pi, pw, clock, as_of_day, req, plan.profile.demand["outcomes"])


def simulate_property(plan: Plan, world, pi: int, members: Requests | None) -> dict:
    """Every request at property `pi` (segments' demand, members' trips, web checkouts in flight), thinned to the
    volume at which the property sells its target occupancy, and each request's fate and timeline."""
    prof = plan.profile
    outcomes = prof.demand["outcomes"]
    pw = world.properties[pi]
    rng = plan.root.child("bookings", "property", pw.slug).generator()
    clock, as_of_day = _clock(plan, pw)
    parts = [segment_demand(plan, pw, rng, first_rate(plan, pw))]
    if members is not None and len(members):
        parts.append(members)
    parts.append(_in_flight_carts(plan, pw, rng, as_of_day))
    cand = _bookable(plan, clock, Requests.concat(parts))
    # Volume: thin the candidates to the scale at which the property sells its target occupancy over the
    # history window (turn-aways and cancellations included), by a few secant steps on the scale.
    scale, tried = 1.0, []
    for _ in range(CALIBRATION_PASSES):
        req = cand.take(np.flatnonzero(cand.keep < scale / MAX_SCALE))
        res = _lifecycle(plan, world, pi, pw, clock, as_of_day, req, outcomes)
        occ = _occupancy(plan, pw, res, as_of_day)
        tried.append((scale, occ))
        if abs(occ - pw.occupancy_target) <= OCCUPANCY_TOLERANCE or plan.history_start_day >= as_of_day:
            break
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            (s0, o0), (s1, o1) = tried[-2], tried[-1]
            nxt = s1 + (pw.occupancy_target - o1) * (s1 - s0) / (o1 - o0)
        else:
            nxt = scale * pw.occupancy_target / max(occ, 0.01)
        nxt = float(np.clip(nxt, 0.05, MAX_SCALE))
        if nxt == scale:
            break
        scale = nxt
    res["calibration"] = tried
    return res


def _lifecycle(plan, world, pi, pw, clock, as_of_day, req: Requests, outcomes) -> dict:
    """Decide each request's fate and timeline at this property. Returns arrays by booking."""
    prof = plan.profile
    d = prof.demand
    n = len(req)
    u = req.u
    channels = labels(req.channel)  # each channel's rules decided once, then spread to its rows
    names, of = channels
    is_web = np.array([c == "WEB_DIRECT" for c in names], dtype=bool)[of]
    is_ota = np.array([c in OTA_SOURCES for c in names], dtype=bool)[of]
    is_member = req.member >= 0
    hold_s = int(d.get("hold_minutes", 15)) * 60
    created = req.created_at
    checkin_ts = clock.utc(req.arrival, req.checkin_sod)
    departure = req.arrival + req.nights
    checkout_ts = clock.utc(departure, req.checkout_sod)
    checkin_moment = clock.utc(req.arrival, np.full(n, pw.check_in_minutes * 60))
    audit_ts = clock.utc(req.arrival + 1, np.full(n, 30 * 60))  # night audit, 00:30 the next morning

    # Rate plan: the guest's choice (segment), where the room type offers it (a plan id, not 0); else BAR. Codes
    # are numbered once (core.columns.labels), then integers compared: np.unique sorted the object array's
    # strings and each code compared every row, twice, in each calibration pass (with channels numbered once
    # for _p: simulating two large properties 0.78 → 0.53 s of CPU, the same bookings).
    plan_code = req.plan_code.copy()
    codes, code_of = labels(plan_code)
    no_plan = np.zeros(len(pw.room_type_ids), dtype=np.int64)
    plan_id = np.zeros(n, dtype=np.int64)
    for j, code in enumerate(codes):
        m = code_of == j
        plan_id[m] = pw.plan_ids.get(code, no_plan)[req.room_type[m]]
    missing = plan_id == 0
    plan_code[missing] = "BAR"
    plan_id[missing] = pw.plan_ids["BAR"][req.room_type[missing]]
    lead_days = np.maximum(req.arrival - clock.local_day(created), 0)

    # Intents, each a behaviour of the guest or the channel (platform.md §6.3 by channel).
    p_cancel = cancel_probability(prof, pw.kind, Requests(**{**req.__dict__, "plan_code": plan_code}), lead_days)
    p_noshow = np.array([sg.no_show for sg in prof.segments_for(pw.kind)])[req.segment]
    fail = is_web & (u[:, U_FAIL] < _p(outcomes, channels, "payment_failed"))
    on_hold_cancel = is_web & ~fail & (u[:, U_ON_HOLD] < 0.01)
    reject_intent = u[:, U_REJECT] < _p(outcomes, channels, "rejected")
    pending_intent = (u[:, U_PENDING] < _p(outcomes, channels, "pending")) & (req.arrival >= as_of_day)
    cancel_intent = u[:, U_CANCEL] < p_cancel
    noshow_intent = u[:, U_NOSHOW] < p_noshow
    complete_intent = u[:, U_COMPLETE] < _p(outcomes, channels, "completed")

    # Web checkout: payment 1-10 min after the hold is created, confirmation seconds after capture (§6.5).
    pay_ts = created + (60 + u[:, U_PAY] * 540).astype(np.int64)
    pay_ts[on_hold_cancel] = created[on_hold_cancel] + 60 + (u[on_hold_cancel, U_PAY] * 120).astype(np.int64)
    capture_ts = pay_ts + 2 + (u[:, U_MISC] * 18).astype(np.int64)
    # Channel and desk bookings are confirmed within a minute (the channel manager's or the desk's confirm).
    confirmed_ts = np.where(is_web, capture_ts + 1 + (u[:, U_STAFF] * 9).astype(np.int64),
                            np.minimum(created + 5 + (u[:, U_PAY] * 55).astype(np.int64), plan.as_of))
    hold_release_ts = np.where(on_hold_cancel, created + 240 + (u[:, U_ON_HOLD] * 500).astype(np.int64), created + hold_s)
    cancel_ts = _cancel_times(prof, world, pw, plan_code, created, checkin_moment, u)
    cancel_ts = np.maximum(cancel_ts, confirmed_ts + 60)

    status = np.full(n, "", dtype=object)
    status[is_web & fail & (created + hold_s <= plan.as_of)] = "FAILED"
    status[is_web & ~fail & ~on_hold_cancel & (confirmed_ts > plan.as_of)] = "HOLD"
    status[is_web & fail & (created + hold_s > plan.as_of)] = "HOLD"
    status[on_hold_cancel & (hold_release_ts <= plan.as_of)] = "CANCELLED"
    status[on_hold_cancel & (hold_release_ts > plan.as_of)] = "HOLD"
    undecided = status == ""
    status[undecided & reject_intent] = "REJECTED"
    status[(status == "") & pending_intent & ~is_web] = "PENDING"

    needs_room = status == ""
    releases = needs_room & cancel_intent & (cancel_ts <= plan.as_of)
    sellable = (pw.room_type_count * (100 + pw.buffer_pct)) // 100
    n_days = plan.inventory_end_day - plan.history_start_day + 1
    idx = np.flatnonzero(needs_room)
    # Some guests are given another (better) room type than they booked: the desk's upgrades (profile share).
    upgrade = u[:, U_UPGRADE] < property_demand(prof, pw).room_change_share
    booked_at = np.where(is_member, created - MEMBER_FIRST, created)  # members first: see MEMBER_FIRST
    accepted, placed, on_books = allocate(
        n_days, plan.history_start_day, pw.room_type_of_room, pw.room_type_rank, sellable,
        req.arrival[idx], req.nights[idx], req.room_type[idx], req.rooms[idx], booked_at[idx],
        np.where(releases[idx], cancel_ts[idx], NEVER), u[idx, U_ROOM], MAX_ROOMS, upgrade[idx])
    # How full the booked room type was on the stay's nights when the booking was made (prices follow it);
    # members, placed first, pay at the property's usual occupancy.
    occupancy_at_booking = np.full(n, 0.5)
    occupancy_at_booking[idx] = on_books
    occupancy_at_booking[is_member] = pw.occupancy_target
    room_slots = np.full((n, MAX_ROOMS), -1, dtype=np.int64)
    room_slots[idx] = placed
    turned_away = np.zeros(n, dtype=bool)
    turned_away[idx[~accepted]] = True
    # An OTA whose availability was stale delivers a booking the hotel must reject; other channels simply
    # do not sell a full night, so the request never became a booking.
    status[turned_away & is_ota & (u[:, U_REJECT] < 0.35)] = "REJECTED"
    dropped = turned_away & (status == "")

    live = needs_room & ~turned_away
    status[live & releases] = "CANCELLED"
    ns = live & ~releases & noshow_intent & (req.arrival < as_of_day)
    status[ns] = "NO_SHOW"
    rest = live & (status == "")
    arrived = rest & (checkin_ts <= plan.as_of)
    status[rest & ~arrived] = "CONFIRMED"
    status[arrived & (checkout_ts > plan.as_of)] = "CHECKED_IN"
    out = arrived & (checkout_ts <= plan.as_of)
    status[out] = "CHECKED_OUT"
    complete_ts = checkout_ts + (DAY + u[:, U_COMPLETE] * 29 * DAY).astype(np.int64)
    status[out & complete_intent & (complete_ts <= plan.as_of)] = "COMPLETED"

    keep = ~dropped
    assert not (status[keep] == "").any()
    reject_ts = np.minimum(created + 300 + (u[:, U_REJECT] * 7200).astype(np.int64), plan.as_of)
    audit_ts = np.minimum(audit_ts, plan.as_of)
    return dict(pi=pi, pw=pw, clock=clock, req=req, keep=keep, status=status, plan_code=plan_code, plan_id=plan_id,
                checkin_ts=checkin_ts, checkout_ts=checkout_ts, checkin_moment=checkin_moment, audit_ts=audit_ts,
                pay_ts=pay_ts, capture_ts=capture_ts, confirmed_ts=confirmed_ts, cancel_ts=np.where(
                    on_hold_cancel, hold_release_ts, cancel_ts), hold_release_ts=hold_release_ts,
                reject_ts=reject_ts, complete_ts=complete_ts, occupancy_at_booking=occupancy_at_booking, room_slots=room_slots, on_hold_cancel=on_hold_cancel,
                fail=fail, departure=departure)


def _cancel_times(prof, world, pw, plan_code, created, checkin_moment, u) -> np.ndarray:
    """When a guest who cancels does so: some soon after booking (they kept shopping), most before the free
    cancellation deadline of their terms, a few after it (they pay the penalty); non-refundable terms
    spread over the whole window. Cancellations cluster towards arrival (u^0.5)."""
    c = prof.demand.get("cancellation", {})
    window = np.maximum(checkin_moment - created, 60)
    free_hours = np.full(len(created), -1.0)
    for code, pol in pw.plan_policy.items():
        hours = world.policies.get(pol, {}).get("free_until_hours") if pol else None
        if hours is not None:
            free_hours[plan_code == code] = float(hours)
    deadline = checkin_moment - (free_hours * 3600).astype(np.int64)
    has_deadline = (free_hours >= 0) & (deadline > created + 600)
    before = u[:, U_CANCEL_AT] < float(c.get("before_deadline", 0.85))
    v = u[:, U_CANCEL_MOMENT]
    late_window = np.where(has_deadline & before, deadline - created, window)
    at = created + (late_window * np.sqrt(v)).astype(np.int64)
    after = has_deadline & ~before
    at[after] = deadline[after] + ((checkin_moment[after] - deadline[after]) * v[after]).astype(np.int64)
    early = u[:, U_CANCEL_EARLY] < float(c.get("early_share", 0.25))
    at[early] = created[early] + (window[early] * 0.1 * v[early]).astype(np.int64)
    return np.minimum(at, checkin_moment - 60)


def _cat(parts: list[dict], key: str) -> np.ndarray:
    return np.concatenate([p[key] for p in parts])


def _ts(a: np.ndarray) -> np.ndarray:
    """Epoch seconds (NEVER/-1 = NULL) → datetime64[s] with NaT."""
    out = np.asarray(a, dtype=np.int64).astype("datetime64[s]")
    out[(np.asarray(a) >= NEVER) | (np.asarray(a) < 0)] = np.datetime64("NaT")
    return out


def _masked(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, values, NEVER)


def assemble_property(plan: Plan, world, res: dict, people, staff, run_id: int, facts_only: bool = False) -> BookingsOut:
    """One property's bookings and everything that hangs off them, as columns; or, with facts_only, just the
    facts later modules need (the members' pre-pass). Row ids are the property's partition's
    (core/partition.py); members' bookings keep the ids `member_booking_ids` gives them everywhere."""
    prof = plan.profile
    d = prof.demand
    pi = int(res["pi"])
    pw = res["pw"]
    k = np.flatnonzero(res["keep"])
    req: Requests = res["req"].take(k)
    P = {key: (v[k] if isinstance(v, np.ndarray) and v.shape[:1] == res["keep"].shape else v)
         for key, v in res.items() if key not in ("req", "keep") and isinstance(v, np.ndarray)}
    P.update({f"r_{f}": getattr(req, f) for f in Requests.__dataclass_fields__})
    member = P["r_member"]
    is_member = member >= 0
    # Ids: members' bookings by member and trip; the others in the order they were made.
    guest_rank = np.cumsum(~is_member) - 1
    bid = np.where(is_member, member_booking_ids(member, P["r_trip"]), partition.base(pw.id) + 1 + guest_rank)
    order = np.lexsort((bid, P["r_arrival"], P["r_created_at"]))
    P = {key: v[order] for key, v in P.items()}
    bid = bid[order]
    member = P["r_member"]
    is_member = member >= 0
    n = len(order)
    # Guests: a few non-members come back (facts: 2.6-4.4% repeat guests); the rest are new people. Numbered
    # among the property's non-member bookings, so members' bookings never change a guest's identity.
    guests = np.flatnonzero(~is_member)
    grng = plan.root.child("bookings", "guests", pw.slug).generator()
    local = np.arange(len(guests), dtype=np.int64)
    back = (grng.random(len(guests)) < property_demand(prof, pw).return_share) & (local > 0)
    local[back] = np.floor(grng.random(int(back.sum())) * local[back]).astype(np.int64)
    while True:  # follow chains so every returning guest points at a first visit
        nxt = local[local]
        if (nxt == local).all():
            break
        local = nxt
    guest_local = np.zeros(n, dtype=np.int64)
    guest_local[guests] = local
    P["guest_no"] = pi * GUEST_BLOCK + guest_local
    P["r_country"] = P["r_country"].copy()
    P["r_country"][guests] = P["r_country"][guests][local]  # a returning guest is the same person, same country
    property_index = np.full(n, pi, dtype=np.int64)
    id_base = partition.base(pw.id)
    # The code below is written for arrays of properties; here there is one (index 0 of `props`).
    props = [pw]
    prop_id = np.full(n, pw.id, dtype=np.int64)
    pi = np.zeros(n, dtype=np.int64)
    ch = P["r_channel"].astype(str)
    status = P["status"].astype(str)
    member = P["r_member"]
    is_member = member >= 0
    is_ota = np.isin(ch, OTA_SOURCES)
    is_web = ch == "WEB_DIRECT"
    created = P["r_created_at"]
    u = P["r_u"]
    nights = P["r_nights"]
    rooms = P["r_rooms"]
    arrival = P["r_arrival"]
    departure = arrival + nights

    # --- who booked
    gstream = plan.root.child("bookings", "guest-identity")
    gno = P["guest_no"]
    country = P["r_country"]
    gnames = person_names(gstream, gno, prof.name_locale)
    for cc, locale in prof.guests.get("locales", {}).items():
        m = country == cc
        if m.any():
            gnames[m] = person_names(gstream, gno[m], locale)
    gdom = np.array(prof.guest_email_domains, dtype=object)[gstream.integers(gno, len(prof.guest_email_domains), 7)]
    gemails = np.array([f"{ascii_slug(nm)}.g{g}@{dm}" for nm, g, dm in zip(gnames.tolist(), gno.tolist(), gdom.tolist())],
                       dtype=object)
    gphones = phone_numbers(prof.phone_scheme, "guest", guest_phone_index(property_index, guest_local, len(world.properties)))
    mi = np.where(is_member, member, 0)
    name = np.where(is_member, people.name[mi] if len(people.name) else gnames, gnames)
    email = np.where(is_member, people.email[mi] if len(people.email) else gemails, gemails)
    phone = np.where(is_member, people.phone[mi] if len(people.phone) else gphones, gphones)
    registered_guest = ~is_member & is_web
    guest_uid = np.full(n, None, dtype=object)  # only registered guests have a user (and need its id)
    guest_uid[registered_guest] = [uuid_for(plan.seed, "user", f"guest:{g}") for g in gno[registered_guest].tolist()]
    user_id = np.where(is_member, people.user_id[mi] if len(people.user_id) else None, guest_uid)
    # OTA bookings are not credited to the account (Hyatt, IHG, Accor; platform.md §4.3 inv. 13).
    linked = is_member & ~is_ota
    account = np.where(linked, mi + 1, 0)  # loyalty account ids are member index + 1

    # --- money: nightly rates, tax per night slab, totals
    demand_of = [property_demand(prof, pw) for pw in props]
    price_index = np.stack([x.price_season for x in demand_of])  # property × month
    night_b = np.repeat(np.arange(n), nights)
    night_off = np.arange(len(night_b)) - np.repeat(np.cumsum(nights) - nights, nights)
    night_day = arrival[night_b] + night_off
    month = night_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    wd = weekday(night_day)
    base = np.zeros(n, dtype=np.int64)
    uplift = np.zeros(n, dtype=np.int64)
    plan_code = P["plan_code"]
    for p_i, pw in enumerate(props):
        for code in pw.plan_price:
            m = (pi == p_i) & (plan_code == code)
            base[m] = pw.plan_price[code][P["r_room_type"][m]]
            uplift[m] = pw.plan_uplift[code]
    weekend_night = (wd == 4) | (wd == 5)  # Friday and Saturday nights
    # Price of a night: the plan's base for the room type × the month's price index × weekend uplift × how
    # full the type was when the guest booked (revenue management) × occupancy of the room (single discount,
    # extra adult) × a small per-booking spread (promotions, negotiated and package prices).
    adults_room = P["r_adults"]
    occ_factor = 1 + float(d.get("occupancy_price_elasticity", 0.0)) * (P["occupancy_at_booking"] - 0.5)
    party_factor = (1 + float(d.get("extra_adult_pct", 0)) / 100 * np.maximum(adults_room - 2, 0)
                    - float(d.get("single_discount_pct", 0)) / 100 * (adults_room == 1))
    spread = 1 + float(d.get("price_spread", 0.0)) * (2 * u[:, U_PRICE] - 1)
    factor = (price_index[pi[night_b], month] * (1 + np.where(weekend_night, uplift[night_b], 0) / 100)
              * (occ_factor * party_factor * spread)[night_b])
    rate = (np.round(base[night_b] * factor / 100) * 100).astype(np.int64)  # whole currency units
    tax = _tax(plan, night_day, rate)
    net = np.bincount(night_b, weights=rate, minlength=n).astype(np.int64) * rooms
    tax_total = np.bincount(night_b, weights=tax, minlength=n).astype(np.int64) * rooms
    total = net + tax_total
    first_night = (rate + tax)[np.cumsum(nights) - nights] * rooms
    commission_pct = np.where(is_ota, np.round((d["commission_pct"]["min"] + u[:, U_COMMISSION] *
                                                (d["commission_pct"]["max"] - d["commission_pct"]["min"])) * 2) / 2, 0.0)
    commission = np.round(total * commission_pct / 100).astype(np.int64)

    # --- cancellation penalty by policy: free before free_until_hours, else pct of first night or total
    policy_id = np.zeros(n, dtype=np.int64)
    for p_i, pw in enumerate(props):
        for code, pol in pw.plan_policy.items():
            policy_id[(pi == p_i) & (plan_code == code)] = pol or 0
    cancelled = status == "CANCELLED"
    cancel_ts = P["cancel_ts"]
    hours_before = (P["checkin_moment"] - cancel_ts) / 3600
    fee = np.zeros(n, dtype=np.int64)
    for pol_id, pol in world.policies.items():
        m = cancelled & (policy_id == pol_id)
        if not m.any():
            continue
        free = np.zeros(int(m.sum()), dtype=bool) if pol["free_until_hours"] is None else hours_before[m] >= pol["free_until_hours"]
        basis = first_night[m] if pol["penalty_basis"] == "FIRST_NIGHT" else total[m]
        fee[m] = np.where(free, 0, np.minimum(basis * int(pol["penalty_pct"]) // 100, total[m]))
    on_hold_cancel = P["on_hold_cancel"]
    fee[on_hold_cancel] = 0  # nothing was ever paid or promised

    # --- timestamps by status
    confirmed_states = np.isin(status, ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED", "NO_SHOW"]) | (cancelled & ~on_hold_cancel)
    confirmed_at = _masked(confirmed_states, P["confirmed_ts"])
    in_house = np.isin(status, ["CHECKED_IN", "CHECKED_OUT", "COMPLETED"])
    checked_in_at = _masked(in_house, P["checkin_ts"])
    checked_out_at = _masked(np.isin(status, ["CHECKED_OUT", "COMPLETED"]), P["checkout_ts"])
    cancelled_at = _masked(cancelled, cancel_ts)
    hold_exp = np.where(is_web, created + int(d.get("hold_minutes", 15)) * 60, NEVER)

    # --- facts for loyalty and comms
    season = np.stack([x.season / x.season.mean() for x in demand_of])
    season_arrival = season[pi, month_of(arrival)]
    has_weekend = np.bincount(night_b, weights=weekend_night, minlength=n) > 0
    rank = np.asarray(pw.room_type_rank)[P["r_room_type"]]  # one property here (pi is all zeros)
    top = np.asarray(pw.room_type_rank).max()
    out = BookingsOut()
    out.facts = BookingFacts(
        id=bid, property_index=property_index, member=member, user_id=user_id, status=status, source=ch, created_at=created,
        confirmed_at=confirmed_at, cancelled_at=cancelled_at, checked_in_at=checked_in_at,
        checked_out_at=checked_out_at, check_in=arrival, check_out=departure, nights=nights, total=total,
        prepaid=is_web, weekend=has_weekend, premium=rank > top / 2, off_season=season_arrival < 0.95,
        guest_name=name, email=email, phone=phone, loyalty_linked=linked, first_night=first_night)
    if facts_only:
        return out

    # --- bookings table
    codes = np.array([pw.code for pw in props], dtype=object)[pi]
    # Unique within the property (member ids sit above 2^33, the others below) and prefixed by its code.
    conf = scrambled_codes(np.where(is_member, 2**33 + bid, bid - id_base), 7, salt=plan.seed % 997)
    B = Columns("bookings")
    B["id"] = bid
    B["confirmation_number"] = np.array([f"{c}-{x}" for c, x in zip(codes, conf)], dtype=object)
    B["property_id"] = prop_id
    B["room_type_id"] = np.asarray(pw.room_type_ids, dtype=np.int64)[P["r_room_type"]]
    B["rate_plan_id"] = P["plan_id"]
    B["cancellation_policy_id"] = np.where(policy_id > 0, policy_id, None).astype(object)
    B["loyalty_account_id"] = np.where(linked, account, None).astype(object)
    B["user_id"] = user_id
    B["guest_name"] = name
    B["email"] = email
    B["phone"] = phone
    B["country"] = country.astype(object)
    B["check_in"] = arrival.astype("datetime64[D]")
    B["check_out"] = departure.astype("datetime64[D]")
    B["nights"] = nights
    B["adults"] = P["r_adults"] * rooms
    B["children"] = P["r_children"] * rooms
    B["rooms"] = rooms
    B["status"] = status.astype(object)
    B["source"] = ch.astype(object)
    ota_prefix = {"OTA_BOOKING_COM": "BDC", "OTA_MMT": "MMT", "OTA_EASEMYTRIP": "EMT", "OTA_CLEARTRIP": "CTR",
                  "OTA_EXPEDIA": "EXP", "OTA_AGODA": "AGD"}
    ota_codes = scrambled_codes(bid, 9, salt=7 + plan.seed % 991)
    B["source_reservation_id"] = np.array([f"{ota_prefix[c]}{x}" if c in ota_prefix else None for c, x in zip(ch, ota_codes)], dtype=object)
    B["commission_pct"] = np.array([f"{c:.2f}" for c in commission_pct], dtype=object)
    B["commission_amount"] = commission
    B["currency"] = np.array([pw.currency for pw in props], dtype=object)[pi]
    B["net_amount"] = net
    B["tax_amount"] = tax_total
    B["total_price"] = total
    B["cancellation_fee"] = np.where(cancelled, fee, None).astype(object)
    n_requests = P["r_special"]
    B["special_requests"] = n_requests
    tokens = scrambled_codes(bid, 10, salt=13)
    B["hold_token"] = np.array([f"hold_{t}" if w else None for t, w in zip(tokens, is_web)], dtype=object)
    B["hold_expires_at"] = _ts(hold_exp)
    B["created_at"] = _ts(created)
    B["confirmed_at"] = _ts(confirmed_at)
    B["cancelled_at"] = _ts(cancelled_at)
    reasons = CANCEL_REASONS[sample_categorical(u[:, U_MISC], CANCEL_REASON_W)]
    reasons[on_hold_cancel] = "BookingAbandoned"
    reasons[is_ota & cancelled & ~on_hold_cancel] = "TravelAgency"
    B["cancellation_reason"] = np.where(cancelled, reasons, None).astype(object)
    B["checked_in_at"] = _ts(checked_in_at)
    B["checked_out_at"] = _ts(checked_out_at)
    B["seed_run_id"] = np.full(n, run_id, dtype=np.int64)

    out.tables["bookings"] = B

    # --- stays: one per room, with the room placed by the allocator (none for bookings never confirmed)
    slots = P["room_slots"][:, :MAX_ROOMS]
    stay_b = np.repeat(np.arange(n), rooms)
    stay_slot = np.arange(len(stay_b)) - np.repeat(np.cumsum(rooms) - rooms, rooms)
    room_index = slots[stay_b, stay_slot]
    room_id = np.array([props[pi[b]].room_ids[r] if r >= 0 else None for b, r in zip(stay_b, room_index)], dtype=object)
    holds_room = np.isin(status[stay_b], ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED", "NO_SHOW", "CANCELLED"])
    room_id[~holds_room] = None
    n_stays = len(stay_b)
    stay_id = partition.ids(pw.id, n_stays)
    starts = np.cumsum(nights) - nights
    # Nightly rates as JSON text, built once per booking (every room of a booking has the same rates), in the
    # canonical form the loader stores (sorted keys, compact): [{"amount":"1234.00","date":"2026-01-31"},...].
    day_text = {}
    night_json = []
    for d_, r_ in zip(night_day.tolist(), rate.tolist()):
        dt_ = day_text.get(d_)
        if dt_ is None:
            dt_ = day_text[d_] = str(np.datetime64(d_, "D"))
        night_json.append(f'{{"amount":"{r_ // 100}.{r_ % 100:02d}","date":"{dt_}"}}')
    ends = (starts + nights).tolist()
    booking_json = ["[" + ",".join(night_json[a_:z_]) + "]" for a_, z_ in zip(starts.tolist(), ends)]
    rates_json = [booking_json[b] for b in stay_b.tolist()]
    S = Columns("stays")
    S["id"] = stay_id
    S["booking_id"] = bid[stay_b]
    S["property_id"] = prop_id[stay_b]
    S["room_type_id"] = B["room_type_id"][stay_b]
    S["room_id"] = room_id
    S["rate_plan_id"] = P["plan_id"][stay_b]
    S["check_in_date"] = arrival[stay_b].astype("datetime64[D]")
    S["check_out_date"] = departure[stay_b].astype("datetime64[D]")
    S["num_guests"] = P["r_adults"][stay_b] + P["r_children"][stay_b]
    rj = np.empty(n_stays, dtype=object)
    rj[:] = rates_json
    S["nightly_rates"] = rj
    S["status"] = np.array([STAY_STATUS_OF[s] for s in status[stay_b]], dtype=object)
    out.tables["stays"] = S

    # --- room assignments: by a front-desk user (or the manager) of the property, at check-in
    staff_pick = u[:, U_STAFF]
    desk = [staff.ids(pw.id, "STAFF_FRONTDESK", "MANAGER") for pw in props]
    desk_user = np.array([desk[p][int(x * len(desk[p])) % len(desk[p])] if len(desk[p]) else None
                          for p, x in zip(pi.tolist(), staff_pick.tolist())], dtype=object)
    managers = [staff.ids(pw.id, "MANAGER") for pw in props]
    manager_user = np.array([managers[p][0] if len(managers[p]) else None for p in pi.tolist()], dtype=object)
    asg = in_house[stay_b] & (room_index >= 0)
    a_b = stay_b[asg]
    assigned_at = np.maximum(checked_in_at[a_b] - (60 + u[a_b, U_ROOM] * 1800).astype(np.int64), confirmed_at[a_b] + 1)
    assigned_at = np.minimum(assigned_at, checked_in_at[a_b])
    A = Columns("room_assignments")
    A["id"] = partition.ids(pw.id, len(a_b))
    A["booking_id"] = bid[a_b]
    A["stay_id"] = stay_id[asg]
    A["room_id"] = room_id[asg].astype(np.int64)
    A["assigned_by"] = desk_user[a_b]
    A["assigned_at"] = _ts(assigned_at)
    A["checked_in_at"] = _ts(checked_in_at[a_b])
    A["checked_out_at"] = _ts(checked_out_at[a_b])
    out.tables["room_assignments"] = A

    # --- booking guests: the booker as primary, companions by name only
    gcount = B["adults"] + B["children"]
    g_b = np.repeat(np.arange(n), gcount)
    g_k = np.arange(len(g_b)) - np.repeat(np.cumsum(gcount) - gcount, gcount)
    primary = g_k == 0
    cstream = plan.root.child("bookings", "companions")
    comp_names = person_names(cstream, bid[g_b] * 16 + g_k, prof.name_locale)
    is_child = g_k >= B["adults"][g_b]
    G = Columns("booking_guests")
    G["id"] = partition.ids(pw.id, len(g_b))
    G["booking_id"] = bid[g_b]
    G["name"] = np.where(primary, name[g_b], comp_names)
    G["email"] = np.where(primary, email[g_b], None).astype(object)
    G["phone"] = np.where(primary, phone[g_b], None).astype(object)
    G["country"] = B["country"][g_b]
    G["is_primary"] = primary
    G["age"] = np.where(is_child, 2 + (cstream.uniform(bid[g_b] * 16 + g_k, 5) * 11).astype(int), None).astype(object)
    G["loyalty_account_id"] = np.where(primary & linked[g_b], account[g_b], None).astype(object)
    out.tables["booking_guests"] = G

    # Payments wait for the loyalty replay: a member may pay a night with points (an award night).
    P["id_base"] = id_base
    out.payment_inputs = (plan, P, B, n, bid, status, ch, is_web, is_ota, created, total, fee, first_night, cancelled,
                          on_hold_cancel, checked_in_at, checked_out_at, u)
    changes = np.array([[sg.changes for sg in prof.segments_for(pw.kind)] for pw in props])
    P["change_share"] = changes[pi, P["r_segment"]]  # guests who change their booking (by segment)
    out.tables["booking_audit_logs"] = _audit(plan, P, bid, status, ch, is_web, is_ota, created, confirmed_at,
                                              checked_in_at, checked_out_at, cancelled_at, assigned_at, a_b,
                                              desk_user, manager_user, user_id, n_requests, u)
    holds, locks, inv = _holds_and_inventory(plan, props, id_base, P, B, S, bid, status, is_web, created, confirmed_at,
                                             cancelled_at, on_hold_cancel, pi, rooms, arrival, departure)
    out.tables["hold_logs"] = holds
    out.tables["inventory_locks"] = locks
    out.tables["inventories"] = inv

    # Guest users: one per registered non-member guest, created just before their first booking.
    reg = np.flatnonzero(registered_guest)
    if len(reg):
        uniq, first = np.unique(gno[reg], return_index=True)
        fi = reg[first]
        out.guest_user = dict(user_id=guest_uid[fi], email=gemails[fi], phone=gphones[fi], name=gnames[fi],
                              created_at=created[fi] - 120)
    return out


def _payments(plan, P, B, n, bid, status, ch, is_web, is_ota, created, total, fee, first_night, cancelled,
              on_hold_cancel, checked_in_at, checked_out_at, u, award_night) -> Columns:
    """Charges and refunds that settle each booking by its status (platform.md §4.2 inv. 9, §6.5)."""
    pcfg = plan.profile.payments
    as_of = plan.as_of
    mode = np.full(n, "hotel", dtype=object)
    mode[is_web] = "online"
    mode[is_ota & (u[:, U_PAYMODE] < pcfg.get("ota_collect_share", 0.6))] = "ota"
    mode[np.isin(ch, ["CORPORATE", "GROUP"])] = "invoice"
    invoice_method = np.where(ch == "GROUP", "BANK_TRANSFER", "CORPORATE_INVOICE")
    online_method = choose(pcfg["online"], u[:, U_METHOD])
    desk_method = choose(pcfg["desk"], u[:, U_METHOD])
    method_of_mode = np.where(mode == "online", online_method, np.where(mode == "ota", "OTA_COLLECT",
                              np.where(mode == "invoice", invoice_method, desk_method)))
    pay_ts, capture_ts = P["pay_ts"], P["capture_ts"]
    jitter = (u[:, U_EXTRA] * 3000).astype(np.int64)
    confirmedish = np.isin(status, ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED", "NO_SHOW"]) | (cancelled & ~on_hold_cancel)
    settled_out = np.isin(status, ["CHECKED_OUT", "COMPLETED"])
    blocks = []  # (mask, amount, status, created, captured, method)

    def block(mask, amount, st, c_at, cap_at, method):
        blocks.append((mask, amount, np.broadcast_to(np.asarray(st, dtype=object), (n,)), c_at, cap_at, method))

    online = mode == "online"
    block(online & (status == "FAILED"), total, "FAILED", pay_ts, np.full(n, NEVER), method_of_mode)
    block(online & (status == "HOLD") & (pay_ts <= as_of), total, "PENDING", pay_ts, np.full(n, NEVER), method_of_mode)
    block(online & on_hold_cancel & (status == "CANCELLED"), total, "CANCELLED", pay_ts, np.full(n, NEVER), method_of_mode)
    full_refund = online & cancelled & ~on_hold_cancel & (fee == 0)
    refund_at = np.minimum(P["cancel_ts"] + 60 + (u[:, U_REFUND] * 1740).astype(np.int64), as_of)
    refund_capture = refund_at + ((1 + u[:, U_REFUND] * 6) * DAY).astype(np.int64)
    charge_status = np.where(full_refund & (refund_capture <= as_of), "REFUNDED", "COMPLETED")
    block(online & confirmedish & ~award_night, total, charge_status, pay_ts, capture_ts, method_of_mode)
    # Award night: the first night paid with points (a FREE_NIGHT redemption), the rest by the guest's method.
    award = online & confirmedish & award_night
    in_points = np.minimum(first_night, total)
    block(award, in_points, "COMPLETED", pay_ts, capture_ts, np.full(n, "LOYALTY_POINTS", dtype=object))
    block(award & (total > in_points), total - in_points, "COMPLETED", pay_ts + 1, capture_ts + 1, method_of_mode)
    # Pay at the hotel / OTA collect / invoice: money moves at the stay, or as a penalty.
    ota_at = np.minimum(checked_in_at + 60 + jitter, as_of)
    block((mode == "ota") & np.isin(status, ["CHECKED_IN", "CHECKED_OUT", "COMPLETED"]), total, "COMPLETED",
          ota_at, np.minimum(ota_at + 5, as_of), method_of_mode)
    desk_at = np.maximum(checked_out_at - 60 - (u[:, U_EXTRA] * 840).astype(np.int64), checked_in_at + 60)
    block((mode == "hotel") & settled_out, total, "COMPLETED", desk_at, np.minimum(desk_at + 20, checked_out_at), method_of_mode)
    block((mode == "invoice") & settled_out, total, "COMPLETED", checked_out_at, np.minimum(checked_out_at + 60, as_of), method_of_mode)
    penalty_method = np.where(mode == "ota", "OTA_COLLECT", np.where(mode == "invoice", invoice_method, "CARD"))
    pen_at = np.minimum(P["cancel_ts"] + 60 + jitter // 5, as_of)
    block(~online & cancelled & (fee > 0), fee, "COMPLETED", pen_at, pen_at, penalty_method)
    ns = ~online & (status == "NO_SHOW")
    block(ns, np.minimum(first_night, total), "COMPLETED", P["audit_ts"], P["audit_ts"], penalty_method)

    rows_b, amount, st, c_at, cap_at, method = [], [], [], [], [], []
    for mask, a, s_, c, cap, m in blocks:
        idx = np.flatnonzero(mask)
        rows_b.append(idx), amount.append(a[idx]), st.append(s_[idx]), c_at.append(c[idx]), cap_at.append(cap[idx])
        method.append(m[idx])
    cb = np.concatenate(rows_b)
    charges = dict(b=cb, amount=np.concatenate(amount), status=np.concatenate(st), created=np.concatenate(c_at),
                   captured=np.concatenate(cap_at), method=np.concatenate(method))
    order = np.lexsort((charges["created"], cb))
    charges = {k: v[order] for k, v in charges.items()}
    n_ch = len(order)
    id_base = P["id_base"]
    charge_id = id_base + np.arange(1, n_ch + 1, dtype=np.int64)
    # Refunds of prepaid money after a cancellation (platform.md §6.5: 1-7 days after).
    refund_b = np.flatnonzero(online & cancelled & ~on_hold_cancel & (total - fee > 0))
    charge_of = {int(b): int(i) for i, (b, s_) in enumerate(zip(charges["b"], charges["status"])) if s_ in ("COMPLETED", "REFUNDED")}
    ref_charge = np.array([charge_of[int(b)] for b in refund_b], dtype=np.int64)
    ref_status = np.where(refund_capture[refund_b] <= as_of, "COMPLETED", "PENDING")
    all_b = np.concatenate([charges["b"], refund_b])
    kind = np.concatenate([np.full(n_ch, "CHARGE", dtype=object), np.full(len(refund_b), "REFUND", dtype=object)])
    ids = id_base + np.arange(1, len(all_b) + 1, dtype=np.int64)
    provider = {"online": plan.profile.payments.get("provider", "razorpay"), "ota": "ota", "hotel": "pos", "invoice": "invoice"}
    methods = np.concatenate([charges["method"], method_of_mode[refund_b]]).astype(object)
    T = Columns("payments")
    T["id"] = ids
    T["booking_id"] = bid[all_b]
    T["kind"] = kind
    T["method"] = methods
    T["provider"] = np.array(["loyalty" if m == "LOYALTY_POINTS" else provider[md] for m, md in zip(methods, mode[all_b])],
                             dtype=object)
    orders = scrambled_codes(bid[all_b], 10, salt=29)
    T["provider_order_id"] = np.where(mode[all_b] == "online", np.char.add("order_", orders.astype(str)), None).astype(object)
    pids = scrambled_codes(ids, 12, salt=31)
    T["provider_payment_id"] = np.array([("rfnd_" if k == "REFUND" else "pay_") + p for k, p in zip(kind, pids)], dtype=object)
    T["amount"] = np.concatenate([charges["amount"], (total - fee)[refund_b]]).astype(np.int64)
    T["currency"] = B["currency"][all_b]
    T["status"] = np.concatenate([charges["status"], ref_status]).astype(object)
    T["created_at"] = _ts(np.concatenate([charges["created"], refund_at[refund_b]]))
    captured = np.concatenate([np.where(np.isin(charges["status"], ["COMPLETED", "REFUNDED"]), charges["captured"], NEVER),
                               np.where(ref_status == "COMPLETED", refund_capture[refund_b], NEVER)])
    T["captured_at"] = _ts(captured)
    T["refund_of_payment_id"] = np.concatenate([np.full(n_ch, None, dtype=object), (charge_id[ref_charge]).astype(object)])
    return T


def _audit(plan, P, bid, status, ch, is_web, is_ota, created, confirmed_at, checked_in_at, checked_out_at,
           cancelled_at, assigned_at, a_b, desk_user, manager_user, user_id, n_requests, u) -> Columns:
    """The audit trail: CREATE, then each transition that led to the current status (platform.md §5)."""
    n = len(bid)
    initial = np.where(is_web, "HOLD", np.where((status == "PENDING") | (status == "REJECTED"), "PENDING", "CONFIRMED"))
    desk_channels = np.isin(ch, ["PHONE", "WALK_IN"])
    creator = np.where(is_web, user_id, np.where(desk_channels, desk_user, None))
    rows = []  # (booking idx array, step order, action, from, to, time, performer array)

    def step(mask, order, action, frm, to, at, who):
        idx = np.flatnonzero(mask)
        rows.append((idx, order, action, np.broadcast_to(np.asarray(frm, dtype=object), (n,))[idx],
                     np.broadcast_to(np.asarray(to, dtype=object), (n,))[idx], np.asarray(at)[idx],
                     np.broadcast_to(np.asarray(who, dtype=object), (n,))[idx]))

    none = np.full(n, None, dtype=object)
    step(np.ones(n, bool), 0, "CREATE", None, initial, created, creator)
    paid = is_web & (P["pay_ts"] <= plan.as_of) & np.isin(status, ["HOLD"]) & (P["pay_ts"] < created + 15 * 60)
    confirmed = confirmed_at < NEVER
    # The inventory hold placed with the web booking (its token and expiry go in meta), then the payment.
    step(is_web, 1, "HOLD", "HOLD", "HOLD", created + 1, none)
    step((is_web & confirmed) | paid, 1, "PAYMENT", "HOLD", "HOLD", P["pay_ts"], none)
    step(is_web & confirmed, 2, "CONFIRM", "HOLD", "CONFIRMED", confirmed_at, none)
    step(~is_web & confirmed & (initial == "PENDING"), 2, "CONFIRM", "PENDING", "CONFIRMED", confirmed_at, manager_user)
    step(status == "FAILED", 2, "FAIL", "HOLD", "FAILED", created + 15 * 60, none)
    on_hold = P["on_hold_cancel"] & (status == "CANCELLED")
    step(on_hold, 2, "CANCEL", "HOLD", "CANCELLED", cancelled_at, user_id)
    step(status == "REJECTED", 2, "REJECT", "PENDING", "REJECTED", P["reject_ts"], manager_user)
    # A special request noted a minute after confirmation; a change (dates/guests) before arrival.
    in_house = checked_in_at < NEVER
    asg_at = np.full(n, NEVER)
    np.minimum.at(asg_at, a_b, assigned_at)
    # Notes and changes happen while the booking is CONFIRMED: before whatever comes next.
    next_event = np.minimum.reduce([cancelled_at, asg_at, checked_in_at, P["checkin_moment"],
                                    np.where(status == "NO_SHOW", P["audit_ts"], NEVER), np.full(n, plan.as_of)])
    note_at = confirmed_at + np.minimum(60, (next_event - confirmed_at) // 2)
    step(confirmed & (n_requests > 0) & (next_event - confirmed_at >= 2), 3, "NOTE", "CONFIRMED", "CONFIRMED", note_at, none)
    modify_at = confirmed_at + 120 + ((next_event - confirmed_at - 240) * u[:, U_CHANGE]).astype(np.int64)
    change = confirmed & (u[:, U_CHANGE] < P["change_share"]) & (next_event - confirmed_at > 600)
    step(change, 4, "MODIFY", "CONFIRMED", "CONFIRMED", modify_at, creator)
    step(in_house, 5, "ASSIGN_ROOM", "CONFIRMED", "CONFIRMED", asg_at, desk_user)
    step(in_house, 6, "CHECK_IN", "CONFIRMED", "CHECKED_IN", checked_in_at, desk_user)
    step(checked_out_at < NEVER, 7, "CHECK_OUT", "CHECKED_IN", "CHECKED_OUT", checked_out_at, desk_user)
    step(status == "COMPLETED", 8, "COMPLETE", "CHECKED_OUT", "COMPLETED", P["complete_ts"], manager_user)
    late_cancel = (status == "CANCELLED") & ~P["on_hold_cancel"]
    canceller = np.where(user_id != None, user_id, np.where(desk_channels, manager_user, None))  # noqa: E711
    step(late_cancel, 9, "CANCEL", "CONFIRMED", "CANCELLED", cancelled_at, canceller)
    step(status == "NO_SHOW", 9, "NO_SHOW", "CONFIRMED", "NO_SHOW", P["audit_ts"], desk_user)

    b = np.concatenate([r[0] for r in rows])
    order_key = np.concatenate([np.full(len(r[0]), r[1]) for r in rows])
    at = np.concatenate([r[5] for r in rows]).astype(np.int64)
    srt = np.lexsort((order_key, at, b))
    L = Columns("booking_audit_logs")
    L["id"] = P["id_base"] + np.arange(1, len(b) + 1, dtype=np.int64)
    L["booking_id"] = bid[b[srt]]
    L["performed_by"] = np.concatenate([r[6] for r in rows])[srt]
    L["action"] = np.concatenate([np.full(len(r[0]), r[2], dtype=object) for r in rows])[srt]
    L["from_status"] = np.concatenate([r[3] for r in rows])[srt]
    L["to_status"] = np.concatenate([r[4] for r in rows])[srt]
    actions = L["action"]
    meta = np.empty(len(b), dtype=object)
    # JSON text in the loader's canonical form (core/pgbinary.canonical_json), one string per kind of entry.
    meta[:] = "{}"
    booking_of = L["booking_id"]
    notes = np.flatnonzero(actions == "NOTE")
    note_json = np.array([canonical_json({"special_request": str(r)}) for r in REQUESTS], dtype=object)
    meta[notes] = note_json[booking_of[notes] % len(REQUESTS)]
    meta[actions == "HOLD"] = canonical_json({"ttl_minutes": int(plan.profile.demand.get("hold_minutes", 15))})
    modify = np.flatnonzero(actions == "MODIFY")
    meta[modify] = np.where(booking_of[modify] % 2 == 1, canonical_json({"changed": "guest details"}),
                            canonical_json({"changed": "arrival time"}))
    L["meta"] = meta
    L["created_at"] = _ts(at[srt])
    return L


def _holds_and_inventory(plan, props, id_base, P, B, S, bid, status, is_web, created, confirmed_at, cancelled_at,
                         on_hold_cancel, pi, rooms, arrival, departure):
    """Hold logs and inventory locks of web bookings, and per-night inventory counters (inv. 11, 12)."""
    first_day = plan.history_start_day
    n_days = plan.inventory_end_day - first_day
    # inventory ids: one block of n_days per room type, room types in property order
    type_base = {}
    rows_t, rows_p, rows_cnt = [], [], []
    for pw in props:
        for t, tid in enumerate(pw.room_type_ids):
            type_base[int(tid)] = len(rows_t) * n_days
            rows_t.append(int(tid)), rows_p.append(pw.id), rows_cnt.append(int(pw.room_type_count[t]))
    n_types = len(rows_t)
    booked = np.zeros((n_types, n_days), dtype=np.int64)
    held = np.zeros((n_types, n_days), dtype=np.int64)
    type_row = {tid: i for i, tid in enumerate(rows_t)}
    st_rt = np.array([type_row[int(t)] for t in S["room_type_id"]], dtype=np.int64)
    live = np.isin(S["status"], LIVE_STAY)
    ci = (S["check_in_date"].astype(np.int64) - first_day)
    co = (S["check_out_date"].astype(np.int64) - first_day)
    nights = co - ci
    e_rt = np.repeat(st_rt[live], nights[live])
    e_day = np.repeat(ci[live], nights[live]) + (np.arange(int(nights[live].sum())) - np.repeat(np.cumsum(nights[live]) - nights[live], nights[live]))
    np.add.at(booked, (e_rt, e_day), 1)

    w = np.flatnonzero(is_web)
    hstatus = np.full(len(w), "CONFIRMED", dtype=object)
    st = status[w]
    hstatus[st == "HOLD"] = "ACTIVE"
    hstatus[st == "FAILED"] = "EXPIRED"
    hstatus[on_hold_cancel[w] & (st == "CANCELLED")] = "RELEASED"
    resolved = np.where(hstatus == "CONFIRMED", confirmed_at[w], np.where(hstatus == "EXPIRED", created[w] + 15 * 60,
                        np.where(hstatus == "RELEASED", cancelled_at[w], NEVER)))
    H = Columns("hold_logs")
    H["id"] = id_base + np.arange(1, len(w) + 1, dtype=np.int64)
    H["booking_id"] = bid[w]
    H["hold_token"] = B["hold_token"][w]
    H["property_id"] = B["property_id"][w]
    H["room_type_id"] = B["room_type_id"][w]
    H["check_in"] = B["check_in"][w]
    H["check_out"] = B["check_out"][w]
    H["rooms"] = rooms[w]
    H["guests"] = (B["adults"] + B["children"])[w]
    H["status"] = hstatus
    H["created_at"] = _ts(created[w])
    H["expires_at"] = _ts(created[w] + int(plan.profile.demand.get("hold_minutes", 15)) * 60)
    H["resolved_at"] = _ts(resolved)
    active = hstatus == "ACTIVE"
    h_rt = np.array([type_row[int(t)] for t in B["room_type_id"][w]], dtype=np.int64)
    hn = (departure - arrival)[w]
    for i in np.flatnonzero(active):
        held[h_rt[i], arrival[w[i]] - first_day: departure[w[i]] - first_day] += rooms[w[i]]
    # Locks: a HOLD row per night, then BOOKED (confirmed) or RELEASE (expired/released) for the same nights.
    l_h = np.repeat(np.arange(len(w)), hn)
    l_off = np.arange(len(l_h)) - np.repeat(np.cumsum(hn) - hn, hn)
    l_day = arrival[w][l_h] + l_off - first_day
    inv_id = id_base + 1 + np.array([type_base[int(t)] for t in B["room_type_id"][w]], dtype=np.int64)[l_h] + l_day
    follow = hstatus[l_h] != "ACTIVE"
    second_type = np.where(hstatus[l_h] == "CONFIRMED", "BOOKED", "RELEASE")
    canc = cancelled_at[w][l_h]
    K = Columns("inventory_locks")
    n1, n2 = len(l_h), int(follow.sum())
    K["id"] = id_base + np.arange(1, n1 + n2 + 1, dtype=np.int64)
    K["inventory_id"] = np.concatenate([inv_id, inv_id[follow]])
    K["booking_id"] = np.concatenate([bid[w][l_h], bid[w][l_h][follow]])
    K["hold_token"] = np.concatenate([B["hold_token"][w][l_h], B["hold_token"][w][l_h][follow]])
    K["type"] = np.concatenate([np.full(n1, "HOLD", dtype=object), second_type[follow]])
    K["change"] = np.concatenate([rooms[w][l_h], rooms[w][l_h][follow]])
    K["locked_at"] = _ts(np.concatenate([created[w][l_h], resolved[l_h][follow]]))
    booked_release = np.where((second_type == "BOOKED") & (canc < NEVER), canc, NEVER)
    K["released_at"] = _ts(np.concatenate([resolved[l_h], np.where(second_type == "BOOKED", booked_release, resolved[l_h])[follow]]))
    order = np.lexsort((K["locked_at"].astype(np.int64), K["inventory_id"]))
    K = K.take(order)
    K["id"] = id_base + np.arange(1, n1 + n2 + 1, dtype=np.int64)

    I = Columns("inventories")
    I["id"] = id_base + np.arange(1, n_types * n_days + 1, dtype=np.int64)
    I["property_id"] = np.repeat(np.array(rows_p, dtype=np.int64), n_days)
    I["room_type_id"] = np.repeat(np.array(rows_t, dtype=np.int64), n_days)
    I["stay_date"] = np.tile(np.arange(first_day, first_day + n_days), n_types).astype("datetime64[D]")
    base = np.repeat(np.array(rows_cnt, dtype=np.int64), n_days)
    buffer = np.repeat(np.array([pw.buffer_pct for pw in props for _ in pw.room_type_ids], dtype=np.int64), n_days)
    sellable = base * (100 + buffer) // 100
    b_flat, h_flat = booked.ravel(), held.ravel()
    I["base_available"] = base
    I["buffer_pct"] = buffer
    I["sellable"] = sellable
    I["booked"] = b_flat
    I["holds"] = h_flat
    I["free_to_sell"] = np.maximum(0, sellable - b_flat - h_flat)
    I["overbooked"] = np.maximum(0, b_flat - sellable)
    return H, K, I
