"""Bookings, stays, guests, payments, room assignments, holds, inventory locks, inventories and audit trail.

For each property: requests (demand.py) → lifecycle intents drawn per booking (cancel, no-show, payment
failure, ...) → rooms placed in booking order (allocate.py) → the status each booking has at `as_of` →
timestamps, money, payments and the audit trail that lead to that status. Every table is produced as
columns; nothing here touches a database. The stages hand each other the typed records of records.py
(Lifecycle, PropertyBookings, Bookers, Money, Timeline, ...); assemble_property lists them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
from hotelseed.modules.bookings.records import (Bookers, Desk, Lifecycle, Money, PaymentInputs, PropertyBookings,
                                                StayRows, Timeline)
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
    payment_inputs: PaymentInputs | None = None

    def add_payments(self, award_night: np.ndarray) -> None:
        """The payments table, once the loyalty replay has said which bookings had a night paid in points."""
        assert self.payment_inputs is not None, "a facts-only assembly has no payments"
        self.tables["payments"] = _payments(self.payment_inputs, award_night)


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


def _occupancy(plan: Plan, pw, life: Lifecycle, as_of_day: int) -> float:
    """Share of room-nights of the history window sold to stays that happened (or are happening)."""
    req, status = life.req, life.status
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


def simulate_members(plan: Plan, world, pi: int, members: Requests | None) -> Lifecycle | None:
    """The fate of members' own bookings at property `pi`: the same as in the property's full simulation,
    where they are placed first."""
    if members is None or not len(members):
        return None
    pw = world.properties[pi]
    clock, as_of_day = _clock(plan, pw)
    req = _bookable(plan, clock, members)
    return _lifecycle(plan, world, pi, pw, clock, as_of_day, req, plan.profile.demand["outcomes"])


def simulate_property(plan: Plan, world, pi: int, members: Requests | None) -> Lifecycle:
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
        life = _lifecycle(plan, world, pi, pw, clock, as_of_day, req, outcomes)
        occ = _occupancy(plan, pw, life, as_of_day)
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
    return replace(life, calibration=tuple(tried))


def _lifecycle(plan, world, pi, pw, clock, as_of_day, req: Requests, outcomes) -> Lifecycle:
    """Decide each request's fate and timeline at this property (a Lifecycle: arrays by request), in stages: rate
    plans, intents, checkout times, statuses before rooms, rooms placed (allocate.py), statuses after."""
    prof = plan.profile
    d = prof.demand
    n = len(req)
    u = req.u
    channels = labels(req.channel)  # each channel's rules decided once, then spread to its rows
    names, of = channels
    is_web = np.array([c == "WEB_DIRECT" for c in names], dtype=bool)[of]
    is_ota = np.array([c in OTA_SOURCES for c in names], dtype=bool)[of]
    hold_s = int(d.get("hold_minutes", 15)) * 60
    created = req.created_at
    checkin_ts = clock.utc(req.arrival, req.checkin_sod)
    departure = req.arrival + req.nights
    checkout_ts = clock.utc(departure, req.checkout_sod)
    checkin_moment = clock.utc(req.arrival, np.full(n, pw.check_in_minutes * 60))
    audit_ts = clock.utc(req.arrival + 1, np.full(n, 30 * 60))  # night audit, 00:30 the next morning

    plan_code, plan_id = _rate_plans(pw, req)
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

    pay_ts, capture_ts, confirmed_ts, hold_release_ts = _checkout_times(plan, req, is_web, on_hold_cancel)
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
    occupancy_at_booking, room_slots, turned_away = _place_rooms(plan, pw, req, needs_room, releases, cancel_ts)
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
    return Lifecycle(pi=pi, pw=pw, clock=clock, req=req, keep=keep, status=status, plan_code=plan_code,
                     plan_id=plan_id, checkin_ts=checkin_ts, checkout_ts=checkout_ts, checkin_moment=checkin_moment,
                     audit_ts=audit_ts, pay_ts=pay_ts, capture_ts=capture_ts, confirmed_ts=confirmed_ts,
                     cancel_ts=np.where(on_hold_cancel, hold_release_ts, cancel_ts), hold_release_ts=hold_release_ts,
                     reject_ts=reject_ts, complete_ts=complete_ts, occupancy_at_booking=occupancy_at_booking,
                     room_slots=room_slots, on_hold_cancel=on_hold_cancel, fail=fail, departure=departure)


def _rate_plans(pw, req: Requests) -> tuple[np.ndarray, np.ndarray]:
    """Each request's rate plan (code and id): the guest's choice (segment), where the room type offers it (a plan
    id, not 0); else BAR."""
    # Codes are numbered once (core.columns.labels), then integers compared: np.unique sorted the object array's
    # strings and each code compared every row, twice, in each calibration pass (with channels numbered once
    # for _p: simulating two large properties 0.78 → 0.53 s of CPU, the same bookings).
    plan_code = req.plan_code.copy()
    codes, code_of = labels(plan_code)
    no_plan = np.zeros(len(pw.room_type_ids), dtype=np.int64)
    plan_id = np.zeros(len(req), dtype=np.int64)
    for j, code in enumerate(codes):
        m = code_of == j
        plan_id[m] = pw.plan_ids.get(code, no_plan)[req.room_type[m]]
    missing = plan_id == 0
    plan_code[missing] = "BAR"
    plan_id[missing] = pw.plan_ids["BAR"][req.room_type[missing]]
    return plan_code, plan_id


def _checkout_times(plan: Plan, req: Requests, is_web: np.ndarray, on_hold_cancel: np.ndarray):
    """When each request is paid, its payment captured, it is confirmed, and its web hold released."""
    u, created = req.u, req.created_at
    hold_s = int(plan.profile.demand.get("hold_minutes", 15)) * 60
    # Web checkout: payment 1-10 min after the hold is created, confirmation seconds after capture (§6.5).
    pay_ts = created + (60 + u[:, U_PAY] * 540).astype(np.int64)
    pay_ts[on_hold_cancel] = created[on_hold_cancel] + 60 + (u[on_hold_cancel, U_PAY] * 120).astype(np.int64)
    capture_ts = pay_ts + 2 + (u[:, U_MISC] * 18).astype(np.int64)
    # Channel and desk bookings are confirmed within a minute (the channel manager's or the desk's confirm).
    confirmed_ts = np.where(is_web, capture_ts + 1 + (u[:, U_STAFF] * 9).astype(np.int64),
                            np.minimum(created + 5 + (u[:, U_PAY] * 55).astype(np.int64), plan.as_of))
    hold_release_ts = np.where(on_hold_cancel, created + 240 + (u[:, U_ON_HOLD] * 500).astype(np.int64), created + hold_s)
    return pay_ts, capture_ts, confirmed_ts, hold_release_ts


def _place_rooms(plan: Plan, pw, req: Requests, needs_room: np.ndarray, releases: np.ndarray, cancel_ts: np.ndarray):
    """Rooms for the requests that need one, in booking order (allocate.py; members first): how full the booked
    type was when each was made, the rooms placed (n × MAX_ROOMS, -1 = none), and the requests turned away."""
    n, u, created = len(req), req.u, req.created_at
    is_member = req.member >= 0
    sellable = (pw.room_type_count * (100 + pw.buffer_pct)) // 100
    n_days = plan.inventory_end_day - plan.history_start_day + 1
    idx = np.flatnonzero(needs_room)
    # Some guests are given another (better) room type than they booked: the desk's upgrades (profile share).
    upgrade = u[:, U_UPGRADE] < property_demand(plan.profile, pw).room_change_share
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
    return occupancy_at_booking, room_slots, turned_away


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


def _ts(a: np.ndarray) -> np.ndarray:
    """Epoch seconds (NEVER/-1 = NULL) → datetime64[s] with NaT."""
    out = np.asarray(a, dtype=np.int64).astype("datetime64[s]")
    out[(np.asarray(a) >= NEVER) | (np.asarray(a) < 0)] = np.datetime64("NaT")
    return out


def _masked(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, values, NEVER)


def assemble_property(plan: Plan, world, life: Lifecycle, people, staff, run_id: int,
                      facts_only: bool = False) -> BookingsOut:
    """One property's bookings and everything that hangs off them, as columns; or, with facts_only, just the
    facts later modules need (the members' pre-pass). Row ids are the property's partition's
    (core/partition.py); members' bookings keep the ids `member_booking_ids` gives them everywhere."""
    bk = _bookings_in_id_order(life)
    who = _bookers(plan, world, bk, people)
    money = _money(plan, world, bk)
    times = _timeline(plan, bk)
    out = BookingsOut(facts=_facts(plan, bk, who, money, times))
    if facts_only:
        return out
    B = _bookings_table(plan, bk, who, money, times, run_id)
    stays = _stay_rows(bk)
    S = _stays_table(bk, stays, money, B)
    desk = _desk(staff, bk, stays, times)
    out.tables["bookings"] = B
    out.tables["stays"] = S
    out.tables["room_assignments"] = _room_assignments(bk, stays, times, desk)
    out.tables["booking_guests"] = _booking_guests(plan, bk, who, B)
    # Payments wait for the loyalty replay: a member may pay a night with points (an award night).
    out.payment_inputs = PaymentInputs(plan, bk, money, times, B["currency"])
    out.tables["booking_audit_logs"] = _audit(plan, bk, times, desk, who.user_id)
    out.tables["hold_logs"], out.tables["inventory_locks"], out.tables["inventories"] = \
        _holds_and_inventory(plan, bk, times, B, S)
    out.guest_user = _guest_users(bk, who)
    return out


def _bookings_in_id_order(life: Lifecycle) -> PropertyBookings:
    """The requests that became bookings, with their ids: members' by member and trip; the others in the order
    they were made. Ordered by creation, arrival and id."""
    pw = life.pw
    life = life.take(np.flatnonzero(life.keep))
    member = life.req.member
    is_member = member >= 0
    guest_rank = np.cumsum(~is_member) - 1
    bid = np.where(is_member, member_booking_ids(member, life.req.trip), partition.base(pw.id) + 1 + guest_rank)
    order = np.lexsort((bid, life.req.arrival, life.req.created_at))
    life = life.take(order)
    ch = life.req.channel.astype(str)
    return PropertyBookings(life=life, id=bid[order], id_base=partition.base(pw.id), channel=ch,
                            status=life.status.astype(str), is_member=life.req.member >= 0,
                            is_web=ch == "WEB_DIRECT", is_ota=np.isin(ch, OTA_SOURCES))


def _returning_guests(plan: Plan, bk: PropertyBookings) -> np.ndarray:
    """Each non-member booking's guest, numbered among the property's non-member bookings (so members' bookings
    never change a guest's identity): a few come back (facts: 2.6-4.4% repeat guests), the rest are new people."""
    n_guests = int((~bk.is_member).sum())
    grng = plan.root.child("bookings", "guests", bk.pw.slug).generator()
    local = np.arange(n_guests, dtype=np.int64)
    back = (grng.random(n_guests) < property_demand(plan.profile, bk.pw).return_share) & (local > 0)
    local[back] = np.floor(grng.random(int(back.sum())) * local[back]).astype(np.int64)
    while True:  # follow chains so every returning guest points at a first visit
        nxt = local[local]
        if (nxt == local).all():
            break
        local = nxt
    return local


def _bookers(plan: Plan, world, bk: PropertyBookings, people) -> Bookers:
    """Who booked: the member (their name, e-mail, phone, user and account), or a guest with a generated identity."""
    prof = plan.profile
    n, pi, req = len(bk), bk.life.pi, bk.req
    is_member = bk.is_member
    guests = np.flatnonzero(~is_member)
    local = _returning_guests(plan, bk)
    guest_local = np.zeros(n, dtype=np.int64)
    guest_local[guests] = local
    gno = pi * GUEST_BLOCK + guest_local
    country = req.country.copy()
    country[guests] = country[guests][local]  # a returning guest is the same person, same country
    gstream = plan.root.child("bookings", "guest-identity")
    gnames = person_names(gstream, gno, prof.name_locale)
    for cc, locale in prof.guests.get("locales", {}).items():
        m = country == cc
        if m.any():
            gnames[m] = person_names(gstream, gno[m], locale)
    gdom = np.array(prof.guest_email_domains, dtype=object)[gstream.integers(gno, len(prof.guest_email_domains), 7)]
    gemails = np.array([f"{ascii_slug(nm)}.g{g}@{dm}" for nm, g, dm in zip(gnames.tolist(), gno.tolist(), gdom.tolist())],
                       dtype=object)
    property_index = np.full(n, pi, dtype=np.int64)
    gphones = phone_numbers(prof.phone_scheme, "guest", guest_phone_index(property_index, guest_local, len(world.properties)))
    member = req.member
    mi = np.where(is_member, member, 0)
    registered_guest = ~is_member & bk.is_web
    guest_uid = np.full(n, None, dtype=object)  # only registered guests have a user (and need its id)
    guest_uid[registered_guest] = [uuid_for(plan.seed, "user", f"guest:{g}") for g in gno[registered_guest].tolist()]
    # OTA bookings are not credited to the account (Hyatt, IHG, Accor; platform.md §4.3 inv. 13).
    linked = is_member & ~bk.is_ota
    return Bookers(
        guest_no=gno, country=country, guest_names=gnames, guest_emails=gemails, guest_phones=gphones,
        registered_guest=registered_guest, guest_user_id=guest_uid,
        name=np.where(is_member, people.name[mi] if len(people.name) else gnames, gnames),
        email=np.where(is_member, people.email[mi] if len(people.email) else gemails, gemails),
        phone=np.where(is_member, people.phone[mi] if len(people.phone) else gphones, gphones),
        user_id=np.where(is_member, people.user_id[mi] if len(people.user_id) else None, guest_uid),
        linked=linked, account=np.where(linked, mi + 1, 0))  # loyalty account ids are member index + 1


def _money(plan: Plan, world, bk: PropertyBookings) -> Money:
    """Nightly rates, tax per night slab, totals, the OTA's commission and the cancellation fee."""
    d = plan.profile.demand
    pw, req, n = bk.pw, bk.req, len(bk)
    nights, rooms = req.nights, req.rooms
    night_b = np.repeat(np.arange(n), nights)
    night_off = np.arange(len(night_b)) - np.repeat(np.cumsum(nights) - nights, nights)
    night_day = req.arrival[night_b] + night_off
    month = night_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    wd = weekday(night_day)
    base = np.zeros(n, dtype=np.int64)
    uplift = np.zeros(n, dtype=np.int64)
    plan_code = bk.life.plan_code
    for code in pw.plan_price:
        m = plan_code == code
        base[m] = pw.plan_price[code][req.room_type[m]]
        uplift[m] = pw.plan_uplift[code]
    weekend_night = (wd == 4) | (wd == 5)  # Friday and Saturday nights
    # Price of a night: the plan's base for the room type × the month's price index × weekend uplift × how
    # full the type was when the guest booked (revenue management) × occupancy of the room (single discount,
    # extra adult) × a small per-booking spread (promotions, negotiated and package prices).
    adults_room = req.adults
    occ_factor = 1 + float(d.get("occupancy_price_elasticity", 0.0)) * (bk.life.occupancy_at_booking - 0.5)
    party_factor = (1 + float(d.get("extra_adult_pct", 0)) / 100 * np.maximum(adults_room - 2, 0)
                    - float(d.get("single_discount_pct", 0)) / 100 * (adults_room == 1))
    spread = 1 + float(d.get("price_spread", 0.0)) * (2 * req.u[:, U_PRICE] - 1)
    factor = (property_demand(plan.profile, pw).price_season[month]
              * (1 + np.where(weekend_night, uplift[night_b], 0) / 100)
              * (occ_factor * party_factor * spread)[night_b])
    rate = (np.round(base[night_b] * factor / 100) * 100).astype(np.int64)  # whole currency units
    tax = _tax(plan, night_day, rate)
    net = np.bincount(night_b, weights=rate, minlength=n).astype(np.int64) * rooms
    tax_total = np.bincount(night_b, weights=tax, minlength=n).astype(np.int64) * rooms
    total = net + tax_total
    first_night = (rate + tax)[np.cumsum(nights) - nights] * rooms
    commission_pct = np.where(bk.is_ota, np.round((d["commission_pct"]["min"] + req.u[:, U_COMMISSION] *
                                                   (d["commission_pct"]["max"] - d["commission_pct"]["min"])) * 2) / 2, 0.0)
    commission = np.round(total * commission_pct / 100).astype(np.int64)
    policy_id, fee = _cancellation_fees(world, bk, total, first_night)
    return Money(night_booking=night_b, night_day=night_day, weekend_night=weekend_night, rate=rate, net=net,
                 tax=tax_total, total=total, first_night=first_night, commission_pct=commission_pct,
                 commission=commission, policy_id=policy_id, fee=fee)


def _cancellation_fees(world, bk: PropertyBookings, total: np.ndarray, first_night: np.ndarray):
    """Each booking's cancellation policy (by its rate plan) and the fee of a cancelled booking: free before
    free_until_hours, else a percentage of the first night or of the total."""
    n, life = len(bk), bk.life
    policy_id = np.zeros(n, dtype=np.int64)
    for code, pol in bk.pw.plan_policy.items():
        policy_id[life.plan_code == code] = pol or 0
    cancelled = bk.status == "CANCELLED"
    hours_before = (life.checkin_moment - life.cancel_ts) / 3600
    fee = np.zeros(n, dtype=np.int64)
    for pol_id, pol in world.policies.items():
        m = cancelled & (policy_id == pol_id)
        if not m.any():
            continue
        free = np.zeros(int(m.sum()), dtype=bool) if pol["free_until_hours"] is None else hours_before[m] >= pol["free_until_hours"]
        basis = first_night[m] if pol["penalty_basis"] == "FIRST_NIGHT" else total[m]
        fee[m] = np.where(free, 0, np.minimum(basis * int(pol["penalty_pct"]) // 100, total[m]))
    fee[life.on_hold_cancel] = 0  # nothing was ever paid or promised
    return policy_id, fee


def _timeline(plan: Plan, bk: PropertyBookings) -> Timeline:
    """The moments each booking reached by its status at as-of (NEVER for the others)."""
    status, life = bk.status, bk.life
    cancelled = status == "CANCELLED"
    confirmed_states = (np.isin(status, ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED", "NO_SHOW"])
                        | (cancelled & ~life.on_hold_cancel))
    in_house = np.isin(status, ["CHECKED_IN", "CHECKED_OUT", "COMPLETED"])
    return Timeline(
        confirmed_at=_masked(confirmed_states, life.confirmed_ts),
        checked_in_at=_masked(in_house, life.checkin_ts),
        checked_out_at=_masked(np.isin(status, ["CHECKED_OUT", "COMPLETED"]), life.checkout_ts),
        cancelled_at=_masked(cancelled, life.cancel_ts),
        hold_expires_at=np.where(bk.is_web, bk.req.created_at + int(plan.profile.demand.get("hold_minutes", 15)) * 60,
                                 NEVER),
        in_house=in_house)


def _facts(plan: Plan, bk: PropertyBookings, who: Bookers, money: Money, times: Timeline) -> BookingFacts:
    """What loyalty and comms need to know about the property's bookings."""
    pw, req, n = bk.pw, bk.req, len(bk)
    demand = property_demand(plan.profile, pw)
    season_arrival = (demand.season / demand.season.mean())[month_of(req.arrival)]
    has_weekend = np.bincount(money.night_booking, weights=money.weekend_night, minlength=n) > 0
    rank = np.asarray(pw.room_type_rank)[req.room_type]
    top = np.asarray(pw.room_type_rank).max()
    return BookingFacts(
        id=bk.id, property_index=np.full(n, bk.life.pi, dtype=np.int64), member=req.member, user_id=who.user_id,
        status=bk.status, source=bk.channel, created_at=req.created_at, confirmed_at=times.confirmed_at,
        cancelled_at=times.cancelled_at, checked_in_at=times.checked_in_at, checked_out_at=times.checked_out_at,
        check_in=req.arrival, check_out=req.arrival + req.nights, nights=req.nights, total=money.total,
        prepaid=bk.is_web, weekend=has_weekend, premium=rank > top / 2, off_season=season_arrival < 0.95,
        guest_name=who.name, email=who.email, phone=who.phone, loyalty_linked=who.linked,
        first_night=money.first_night)


OTA_PREFIX = {"OTA_BOOKING_COM": "BDC", "OTA_MMT": "MMT", "OTA_EASEMYTRIP": "EMT", "OTA_CLEARTRIP": "CTR",
              "OTA_EXPEDIA": "EXP", "OTA_AGODA": "AGD"}


def _bookings_table(plan: Plan, bk: PropertyBookings, who: Bookers, money: Money, times: Timeline,
                    run_id: int) -> Columns:
    """The bookings table: one row per booking, with its money, status times and channel references."""
    pw, req, life, n = bk.pw, bk.req, bk.life, len(bk)
    bid, status, ch, rooms = bk.id, bk.status, bk.channel, req.rooms
    cancelled = status == "CANCELLED"
    # Unique within the property (member ids sit above 2^33, the others below) and prefixed by its code.
    conf = scrambled_codes(np.where(bk.is_member, 2**33 + bid, bid - bk.id_base), 7, salt=plan.seed % 997)
    B = Columns("bookings")
    B["id"] = bid
    B["confirmation_number"] = np.array([f"{pw.code}-{x}" for x in conf], dtype=object)
    B["property_id"] = np.full(n, pw.id, dtype=np.int64)
    B["room_type_id"] = np.asarray(pw.room_type_ids, dtype=np.int64)[req.room_type]
    B["rate_plan_id"] = life.plan_id
    B["cancellation_policy_id"] = np.where(money.policy_id > 0, money.policy_id, None).astype(object)
    B["loyalty_account_id"] = np.where(who.linked, who.account, None).astype(object)
    B["user_id"] = who.user_id
    B["guest_name"] = who.name
    B["email"] = who.email
    B["phone"] = who.phone
    B["country"] = who.country.astype(object)
    B["check_in"] = req.arrival.astype("datetime64[D]")
    B["check_out"] = (req.arrival + req.nights).astype("datetime64[D]")
    B["nights"] = req.nights
    B["adults"] = req.adults * rooms
    B["children"] = req.children * rooms
    B["rooms"] = rooms
    B["status"] = status.astype(object)
    B["source"] = ch.astype(object)
    ota_codes = scrambled_codes(bid, 9, salt=7 + plan.seed % 991)
    B["source_reservation_id"] = np.array([f"{OTA_PREFIX[c]}{x}" if c in OTA_PREFIX else None for c, x in zip(ch, ota_codes)], dtype=object)
    B["commission_pct"] = np.array([f"{c:.2f}" for c in money.commission_pct], dtype=object)
    B["commission_amount"] = money.commission
    B["currency"] = np.full(n, pw.currency, dtype=object)
    B["net_amount"] = money.net
    B["tax_amount"] = money.tax
    B["total_price"] = money.total
    B["cancellation_fee"] = np.where(cancelled, money.fee, None).astype(object)
    B["special_requests"] = req.special
    tokens = scrambled_codes(bid, 10, salt=13)
    B["hold_token"] = np.array([f"hold_{t}" if w else None for t, w in zip(tokens, bk.is_web)], dtype=object)
    B["hold_expires_at"] = _ts(times.hold_expires_at)
    B["created_at"] = _ts(req.created_at)
    B["confirmed_at"] = _ts(times.confirmed_at)
    B["cancelled_at"] = _ts(times.cancelled_at)
    reasons = CANCEL_REASONS[sample_categorical(req.u[:, U_MISC], CANCEL_REASON_W)]
    reasons[life.on_hold_cancel] = "BookingAbandoned"
    reasons[bk.is_ota & cancelled & ~life.on_hold_cancel] = "TravelAgency"
    B["cancellation_reason"] = np.where(cancelled, reasons, None).astype(object)
    B["checked_in_at"] = _ts(times.checked_in_at)
    B["checked_out_at"] = _ts(times.checked_out_at)
    B["seed_run_id"] = np.full(n, run_id, dtype=np.int64)
    return B


def _stay_rows(bk: PropertyBookings) -> StayRows:
    """One stay per booked room, with the room the allocator placed (none for bookings never confirmed)."""
    rooms = bk.req.rooms
    slots = bk.life.room_slots[:, :MAX_ROOMS]
    stay_b = np.repeat(np.arange(len(bk)), rooms)
    stay_slot = np.arange(len(stay_b)) - np.repeat(np.cumsum(rooms) - rooms, rooms)
    room_index = slots[stay_b, stay_slot]
    room_ids = bk.pw.room_ids
    room_id = np.array([room_ids[r] if r >= 0 else None for r in room_index], dtype=object)
    holds_room = np.isin(bk.status[stay_b], ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED", "NO_SHOW", "CANCELLED"])
    room_id[~holds_room] = None
    return StayRows(booking=stay_b, room_index=room_index, room_id=room_id, id=partition.ids(bk.pw.id, len(stay_b)))


def _nightly_rates_json(money: Money, nights: np.ndarray) -> list[str]:
    """Nightly rates as JSON text, built once per booking (every room of a booking has the same rates), in the
    canonical form the loader stores (sorted keys, compact): [{"amount":"1234.00","date":"2026-01-31"},...]."""
    starts = np.cumsum(nights) - nights
    day_text = {}
    night_json = []
    for d_, r_ in zip(money.night_day.tolist(), money.rate.tolist()):
        dt_ = day_text.get(d_)
        if dt_ is None:
            dt_ = day_text[d_] = str(np.datetime64(d_, "D"))
        night_json.append(f'{{"amount":"{r_ // 100}.{r_ % 100:02d}","date":"{dt_}"}}')
    ends = (starts + nights).tolist()
    return ["[" + ",".join(night_json[a_:z_]) + "]" for a_, z_ in zip(starts.tolist(), ends)]


def _stays_table(bk: PropertyBookings, stays: StayRows, money: Money, B: Columns) -> Columns:
    """The stays table: one row per booked room, with its room (if placed), dates, guests and nightly rates."""
    req, stay_b = bk.req, stays.booking
    booking_json = _nightly_rates_json(money, req.nights)
    S = Columns("stays")
    S["id"] = stays.id
    S["booking_id"] = bk.id[stay_b]
    S["property_id"] = np.full(len(stay_b), bk.pw.id, dtype=np.int64)
    S["room_type_id"] = B["room_type_id"][stay_b]
    S["room_id"] = stays.room_id
    S["rate_plan_id"] = bk.life.plan_id[stay_b]
    S["check_in_date"] = req.arrival[stay_b].astype("datetime64[D]")
    S["check_out_date"] = (req.arrival + req.nights)[stay_b].astype("datetime64[D]")
    S["num_guests"] = req.adults[stay_b] + req.children[stay_b]
    rj = np.empty(len(stay_b), dtype=object)
    rj[:] = [booking_json[b] for b in stay_b.tolist()]
    S["nightly_rates"] = rj
    S["status"] = np.array([STAY_STATUS_OF[s] for s in bk.status[stay_b]], dtype=object)
    return S


def _desk(staff, bk: PropertyBookings, stays: StayRows, times: Timeline) -> Desk:
    """The property's front-desk user (or manager) serving each booking, its manager, and the room assignments
    the desk makes at check-in (before the guest arrives, after the booking was confirmed)."""
    u = bk.req.u
    desk = staff.ids(bk.pw.id, "STAFF_FRONTDESK", "MANAGER")
    desk_user = np.array([desk[int(x * len(desk)) % len(desk)] if len(desk) else None for x in u[:, U_STAFF].tolist()],
                         dtype=object)
    managers = staff.ids(bk.pw.id, "MANAGER")
    manager_user = np.array([managers[0] if len(managers) else None] * len(bk), dtype=object)
    assigned_stay = times.in_house[stays.booking] & (stays.room_index >= 0)
    a_b = stays.booking[assigned_stay]
    assigned_at = np.maximum(times.checked_in_at[a_b] - (60 + u[a_b, U_ROOM] * 1800).astype(np.int64),
                             times.confirmed_at[a_b] + 1)
    assigned_at = np.minimum(assigned_at, times.checked_in_at[a_b])
    return Desk(desk_user=desk_user, manager_user=manager_user, assigned_stay=assigned_stay, assigned_booking=a_b,
                assigned_at=assigned_at)


def _room_assignments(bk: PropertyBookings, stays: StayRows, times: Timeline, desk: Desk) -> Columns:
    """Room assignments: by a front-desk user (or the manager) of the property, at check-in."""
    asg, a_b = desk.assigned_stay, desk.assigned_booking
    A = Columns("room_assignments")
    A["id"] = partition.ids(bk.pw.id, len(a_b))
    A["booking_id"] = bk.id[a_b]
    A["stay_id"] = stays.id[asg]
    A["room_id"] = stays.room_id[asg].astype(np.int64)
    A["assigned_by"] = desk.desk_user[a_b]
    A["assigned_at"] = _ts(desk.assigned_at)
    A["checked_in_at"] = _ts(times.checked_in_at[a_b])
    A["checked_out_at"] = _ts(times.checked_out_at[a_b])
    return A


def _booking_guests(plan: Plan, bk: PropertyBookings, who: Bookers, B: Columns) -> Columns:
    """Booking guests: the booker as primary, companions by name only."""
    bid = bk.id
    gcount = B["adults"] + B["children"]
    g_b = np.repeat(np.arange(len(bk)), gcount)
    g_k = np.arange(len(g_b)) - np.repeat(np.cumsum(gcount) - gcount, gcount)
    primary = g_k == 0
    cstream = plan.root.child("bookings", "companions")
    comp_names = person_names(cstream, bid[g_b] * 16 + g_k, plan.profile.name_locale)
    is_child = g_k >= B["adults"][g_b]
    G = Columns("booking_guests")
    G["id"] = partition.ids(bk.pw.id, len(g_b))
    G["booking_id"] = bid[g_b]
    G["name"] = np.where(primary, who.name[g_b], comp_names)
    G["email"] = np.where(primary, who.email[g_b], None).astype(object)
    G["phone"] = np.where(primary, who.phone[g_b], None).astype(object)
    G["country"] = B["country"][g_b]
    G["is_primary"] = primary
    G["age"] = np.where(is_child, 2 + (cstream.uniform(bid[g_b] * 16 + g_k, 5) * 11).astype(int), None).astype(object)
    G["loyalty_account_id"] = np.where(primary & who.linked[g_b], who.account[g_b], None).astype(object)
    return G


def _guest_users(bk: PropertyBookings, who: Bookers) -> dict:
    """Guest users: one per registered non-member guest, created just before their first booking."""
    reg = np.flatnonzero(who.registered_guest)
    if not len(reg):
        return {}
    uniq, first = np.unique(who.guest_no[reg], return_index=True)
    fi = reg[first]
    return dict(user_id=who.guest_user_id[fi], email=who.guest_emails[fi], phone=who.guest_phones[fi],
                name=who.guest_names[fi], created_at=bk.req.created_at[fi] - 120)


def _payment_modes(plan: Plan, bk: PropertyBookings):
    """How each booking is paid (online, ota, hotel, invoice), the method of that mode, and the invoice method."""
    pcfg = plan.profile.payments
    ch, u = bk.channel, bk.req.u
    mode = np.full(len(bk), "hotel", dtype=object)
    mode[bk.is_web] = "online"
    mode[bk.is_ota & (u[:, U_PAYMODE] < pcfg.get("ota_collect_share", 0.6))] = "ota"
    mode[np.isin(ch, ["CORPORATE", "GROUP"])] = "invoice"
    invoice_method = np.where(ch == "GROUP", "BANK_TRANSFER", "CORPORATE_INVOICE")
    online_method = choose(pcfg["online"], u[:, U_METHOD])
    desk_method = choose(pcfg["desk"], u[:, U_METHOD])
    method_of_mode = np.where(mode == "online", online_method, np.where(mode == "ota", "OTA_COLLECT",
                              np.where(mode == "invoice", invoice_method, desk_method)))
    return mode, method_of_mode, invoice_method


def _refund_times(plan: Plan, bk: PropertyBookings):
    """When a refund of prepaid money after a cancellation is made and captured (platform.md §6.5: 1-7 days)."""
    u = bk.req.u
    refund_at = np.minimum(bk.life.cancel_ts + 60 + (u[:, U_REFUND] * 1740).astype(np.int64), plan.as_of)
    return refund_at, refund_at + ((1 + u[:, U_REFUND] * 6) * DAY).astype(np.int64)


def _charges(pay: PaymentInputs, award_night: np.ndarray, mode, method_of_mode, invoice_method,
             refund_capture) -> dict:
    """The charges that settle each booking by its status, as columns (b = the booking's row), ordered by booking
    and time."""
    plan, bk, money, times = pay.plan, pay.bookings, pay.money, pay.timeline
    n, status, u, life, as_of = len(bk), bk.status, bk.req.u, bk.life, plan.as_of
    total, fee, first_night = money.total, money.fee, money.first_night
    checked_in_at, checked_out_at = times.checked_in_at, times.checked_out_at
    cancelled, on_hold_cancel = status == "CANCELLED", life.on_hold_cancel
    pay_ts, capture_ts = life.pay_ts, life.capture_ts
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
    pen_at = np.minimum(life.cancel_ts + 60 + jitter // 5, as_of)
    block(~online & cancelled & (fee > 0), fee, "COMPLETED", pen_at, pen_at, penalty_method)
    ns = ~online & (status == "NO_SHOW")
    block(ns, np.minimum(first_night, total), "COMPLETED", life.audit_ts, life.audit_ts, penalty_method)

    rows_b, amount, st, c_at, cap_at, method = [], [], [], [], [], []
    for mask, a, s_, c, cap, m in blocks:
        idx = np.flatnonzero(mask)
        rows_b.append(idx), amount.append(a[idx]), st.append(s_[idx]), c_at.append(c[idx]), cap_at.append(cap[idx])
        method.append(m[idx])
    cb = np.concatenate(rows_b)
    charges = dict(b=cb, amount=np.concatenate(amount), status=np.concatenate(st), created=np.concatenate(c_at),
                   captured=np.concatenate(cap_at), method=np.concatenate(method))
    order = np.lexsort((charges["created"], cb))
    return {k: v[order] for k, v in charges.items()}


def _payments(pay: PaymentInputs, award_night: np.ndarray) -> Columns:
    """Charges and refunds that settle each booking by its status (platform.md §4.2 inv. 9, §6.5)."""
    plan, bk, money = pay.plan, pay.bookings, pay.money
    bid, as_of, id_base = bk.id, plan.as_of, bk.id_base
    total, fee = money.total, money.fee
    mode, method_of_mode, invoice_method = _payment_modes(plan, bk)
    refund_at, refund_capture = _refund_times(plan, bk)
    charges = _charges(pay, award_night, mode, method_of_mode, invoice_method, refund_capture)
    n_ch = len(charges["b"])
    charge_id = id_base + np.arange(1, n_ch + 1, dtype=np.int64)
    # Refunds of prepaid money after a cancellation (platform.md §6.5: 1-7 days after).
    refund_b = np.flatnonzero((mode == "online") & (bk.status == "CANCELLED") & ~bk.life.on_hold_cancel & (total - fee > 0))
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
    T["currency"] = pay.currency[all_b]
    T["status"] = np.concatenate([charges["status"], ref_status]).astype(object)
    T["created_at"] = _ts(np.concatenate([charges["created"], refund_at[refund_b]]))
    captured = np.concatenate([np.where(np.isin(charges["status"], ["COMPLETED", "REFUNDED"]), charges["captured"], NEVER),
                               np.where(ref_status == "COMPLETED", refund_capture[refund_b], NEVER)])
    T["captured_at"] = _ts(captured)
    T["refund_of_payment_id"] = np.concatenate([np.full(n_ch, None, dtype=object), (charge_id[ref_charge]).astype(object)])
    return T


def _audit(plan: Plan, bk: PropertyBookings, times: Timeline, desk: Desk, user_id: np.ndarray) -> Columns:
    """The audit trail: CREATE, then each transition that led to the current status (platform.md §5)."""
    n, bid, status, ch, is_web, life = len(bk), bk.id, bk.status, bk.channel, bk.is_web, bk.life
    created, u, n_requests = bk.req.created_at, bk.req.u, bk.req.special
    confirmed_at, cancelled_at = times.confirmed_at, times.cancelled_at
    checked_in_at, checked_out_at = times.checked_in_at, times.checked_out_at
    desk_user, manager_user = desk.desk_user, desk.manager_user
    # guests who change their booking (by segment)
    change_share = np.array([sg.changes for sg in plan.profile.segments_for(bk.pw.kind)])[bk.req.segment]
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
    paid = is_web & (life.pay_ts <= plan.as_of) & np.isin(status, ["HOLD"]) & (life.pay_ts < created + 15 * 60)
    confirmed = confirmed_at < NEVER
    # The inventory hold placed with the web booking (its token and expiry go in meta), then the payment.
    step(is_web, 1, "HOLD", "HOLD", "HOLD", created + 1, none)
    step((is_web & confirmed) | paid, 1, "PAYMENT", "HOLD", "HOLD", life.pay_ts, none)
    step(is_web & confirmed, 2, "CONFIRM", "HOLD", "CONFIRMED", confirmed_at, none)
    step(~is_web & confirmed & (initial == "PENDING"), 2, "CONFIRM", "PENDING", "CONFIRMED", confirmed_at, manager_user)
    step(status == "FAILED", 2, "FAIL", "HOLD", "FAILED", created + 15 * 60, none)
    on_hold = life.on_hold_cancel & (status == "CANCELLED")
    step(on_hold, 2, "CANCEL", "HOLD", "CANCELLED", cancelled_at, user_id)
    step(status == "REJECTED", 2, "REJECT", "PENDING", "REJECTED", life.reject_ts, manager_user)
    # A special request noted a minute after confirmation; a change (dates/guests) before arrival.
    in_house = checked_in_at < NEVER
    asg_at = np.full(n, NEVER)
    np.minimum.at(asg_at, desk.assigned_booking, desk.assigned_at)
    # Notes and changes happen while the booking is CONFIRMED: before whatever comes next.
    next_event = np.minimum.reduce([cancelled_at, asg_at, checked_in_at, life.checkin_moment,
                                    np.where(status == "NO_SHOW", life.audit_ts, NEVER), np.full(n, plan.as_of)])
    note_at = confirmed_at + np.minimum(60, (next_event - confirmed_at) // 2)
    step(confirmed & (n_requests > 0) & (next_event - confirmed_at >= 2), 3, "NOTE", "CONFIRMED", "CONFIRMED", note_at, none)
    modify_at = confirmed_at + 120 + ((next_event - confirmed_at - 240) * u[:, U_CHANGE]).astype(np.int64)
    change = confirmed & (u[:, U_CHANGE] < change_share) & (next_event - confirmed_at > 600)
    step(change, 4, "MODIFY", "CONFIRMED", "CONFIRMED", modify_at, creator)
    step(in_house, 5, "ASSIGN_ROOM", "CONFIRMED", "CONFIRMED", asg_at, desk_user)
    step(in_house, 6, "CHECK_IN", "CONFIRMED", "CHECKED_IN", checked_in_at, desk_user)
    step(checked_out_at < NEVER, 7, "CHECK_OUT", "CHECKED_IN", "CHECKED_OUT", checked_out_at, desk_user)
    step(status == "COMPLETED", 8, "COMPLETE", "CHECKED_OUT", "COMPLETED", life.complete_ts, manager_user)
    late_cancel = (status == "CANCELLED") & ~life.on_hold_cancel
    canceller = np.where(user_id != None, user_id, np.where(desk_channels, manager_user, None))  # noqa: E711
    step(late_cancel, 9, "CANCEL", "CONFIRMED", "CANCELLED", cancelled_at, canceller)
    step(status == "NO_SHOW", 9, "NO_SHOW", "CONFIRMED", "NO_SHOW", life.audit_ts, desk_user)

    b = np.concatenate([r[0] for r in rows])
    order_key = np.concatenate([np.full(len(r[0]), r[1]) for r in rows])
    at = np.concatenate([r[5] for r in rows]).astype(np.int64)
    srt = np.lexsort((order_key, at, b))
    L = Columns("booking_audit_logs")
    L["id"] = bk.id_base + np.arange(1, len(b) + 1, dtype=np.int64)
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


def _holds_and_inventory(plan: Plan, bk: PropertyBookings, times: Timeline, B: Columns, S: Columns):
    """Hold logs and inventory locks of web bookings, and per-night inventory counters (inv. 11, 12)."""
    first_day = plan.history_start_day
    n_days = plan.inventory_end_day - first_day
    # inventory rows: one block of n_days per room type, in the property's order
    type_ids = [int(tid) for tid in bk.pw.room_type_ids]
    type_row = {tid: i for i, tid in enumerate(type_ids)}
    booked = _booked_nights(plan, type_row, S)
    H, resolved = _hold_logs(plan, bk, times, B)
    held = np.zeros((len(type_ids), n_days), dtype=np.int64)
    w = np.flatnonzero(bk.is_web)
    arrival, departure, rooms = bk.req.arrival, bk.req.arrival + bk.req.nights, bk.req.rooms
    h_rt = np.array([type_row[int(t)] for t in B["room_type_id"][w]], dtype=np.int64)
    for i in np.flatnonzero(H["status"] == "ACTIVE"):
        held[h_rt[i], arrival[w[i]] - first_day: departure[w[i]] - first_day] += rooms[w[i]]
    K = _inventory_locks(plan, bk, times, B, H["status"], resolved, n_days)
    return H, K, _inventories(plan, bk.pw, booked, held)


def _booked_nights(plan: Plan, type_row: dict, S: Columns) -> np.ndarray:
    """Rooms of each type booked by live stays, per night (room type × day)."""
    first_day = plan.history_start_day
    booked = np.zeros((len(type_row), plan.inventory_end_day - first_day), dtype=np.int64)
    st_rt = np.array([type_row[int(t)] for t in S["room_type_id"]], dtype=np.int64)
    live = np.isin(S["status"], LIVE_STAY)
    ci = (S["check_in_date"].astype(np.int64) - first_day)
    co = (S["check_out_date"].astype(np.int64) - first_day)
    nights = co - ci
    e_rt = np.repeat(st_rt[live], nights[live])
    e_day = np.repeat(ci[live], nights[live]) + (np.arange(int(nights[live].sum())) - np.repeat(np.cumsum(nights[live]) - nights[live], nights[live]))
    np.add.at(booked, (e_rt, e_day), 1)
    return booked


def _hold_logs(plan: Plan, bk: PropertyBookings, times: Timeline, B: Columns):
    """The inventory hold of each web booking, and when it was resolved (confirmed, expired, released)."""
    w = np.flatnonzero(bk.is_web)
    created = bk.req.created_at
    hstatus = np.full(len(w), "CONFIRMED", dtype=object)
    st = bk.status[w]
    hstatus[st == "HOLD"] = "ACTIVE"
    hstatus[st == "FAILED"] = "EXPIRED"
    hstatus[bk.life.on_hold_cancel[w] & (st == "CANCELLED")] = "RELEASED"
    resolved = np.where(hstatus == "CONFIRMED", times.confirmed_at[w], np.where(hstatus == "EXPIRED", created[w] + 15 * 60,
                        np.where(hstatus == "RELEASED", times.cancelled_at[w], NEVER)))
    H = Columns("hold_logs")
    H["id"] = bk.id_base + np.arange(1, len(w) + 1, dtype=np.int64)
    H["booking_id"] = bk.id[w]
    H["hold_token"] = B["hold_token"][w]
    H["property_id"] = B["property_id"][w]
    H["room_type_id"] = B["room_type_id"][w]
    H["check_in"] = B["check_in"][w]
    H["check_out"] = B["check_out"][w]
    H["rooms"] = bk.req.rooms[w]
    H["guests"] = (B["adults"] + B["children"])[w]
    H["status"] = hstatus
    H["created_at"] = _ts(created[w])
    H["expires_at"] = _ts(created[w] + int(plan.profile.demand.get("hold_minutes", 15)) * 60)
    H["resolved_at"] = _ts(resolved)
    return H, resolved


def _inventory_locks(plan: Plan, bk: PropertyBookings, times: Timeline, B: Columns, hstatus: np.ndarray,
                     resolved: np.ndarray, n_days: int) -> Columns:
    """Locks: a HOLD row per night, then BOOKED (confirmed) or RELEASE (expired/released) for the same nights."""
    first_day, id_base = plan.history_start_day, bk.id_base
    w = np.flatnonzero(bk.is_web)
    arrival, rooms, bid = bk.req.arrival, bk.req.rooms, bk.id
    hn = bk.req.nights[w]
    type_base = {int(tid): t * n_days for t, tid in enumerate(bk.pw.room_type_ids)}
    l_h = np.repeat(np.arange(len(w)), hn)
    l_off = np.arange(len(l_h)) - np.repeat(np.cumsum(hn) - hn, hn)
    l_day = arrival[w][l_h] + l_off - first_day
    inv_id = id_base + 1 + np.array([type_base[int(t)] for t in B["room_type_id"][w]], dtype=np.int64)[l_h] + l_day
    follow = hstatus[l_h] != "ACTIVE"
    second_type = np.where(hstatus[l_h] == "CONFIRMED", "BOOKED", "RELEASE")
    canc = times.cancelled_at[w][l_h]
    K = Columns("inventory_locks")
    n1, n2 = len(l_h), int(follow.sum())
    K["id"] = id_base + np.arange(1, n1 + n2 + 1, dtype=np.int64)
    K["inventory_id"] = np.concatenate([inv_id, inv_id[follow]])
    K["booking_id"] = np.concatenate([bid[w][l_h], bid[w][l_h][follow]])
    K["hold_token"] = np.concatenate([B["hold_token"][w][l_h], B["hold_token"][w][l_h][follow]])
    K["type"] = np.concatenate([np.full(n1, "HOLD", dtype=object), second_type[follow]])
    K["change"] = np.concatenate([rooms[w][l_h], rooms[w][l_h][follow]])
    K["locked_at"] = _ts(np.concatenate([bk.req.created_at[w][l_h], resolved[l_h][follow]]))
    booked_release = np.where((second_type == "BOOKED") & (canc < NEVER), canc, NEVER)
    K["released_at"] = _ts(np.concatenate([resolved[l_h], np.where(second_type == "BOOKED", booked_release, resolved[l_h])[follow]]))
    order = np.lexsort((K["locked_at"].astype(np.int64), K["inventory_id"]))
    K = K.take(order)
    K["id"] = id_base + np.arange(1, n1 + n2 + 1, dtype=np.int64)
    return K


def _inventories(plan: Plan, pw, booked: np.ndarray, held: np.ndarray) -> Columns:
    """Per-night inventory counters of each room type: sellable (with the buffer), booked, held, free to sell."""
    first_day = plan.history_start_day
    n_types, n_days = booked.shape
    id_base = partition.base(pw.id)
    I = Columns("inventories")
    I["id"] = id_base + np.arange(1, n_types * n_days + 1, dtype=np.int64)
    I["property_id"] = np.full(n_types * n_days, pw.id, dtype=np.int64)
    I["room_type_id"] = np.repeat(np.array([int(t) for t in pw.room_type_ids], dtype=np.int64), n_days)
    I["stay_date"] = np.tile(np.arange(first_day, first_day + n_days), n_types).astype("datetime64[D]")
    base = np.repeat(np.array([int(c) for c in pw.room_type_count], dtype=np.int64), n_days)
    buffer = np.full(n_types * n_days, pw.buffer_pct, dtype=np.int64)
    sellable = base * (100 + buffer) // 100
    b_flat, h_flat = booked.ravel(), held.ravel()
    I["base_available"] = base
    I["buffer_pct"] = buffer
    I["sellable"] = sellable
    I["booked"] = b_flat
    I["holds"] = h_flat
    I["free_to_sell"] = np.maximum(0, sellable - b_flat - h_flat)
    I["overbooked"] = np.maximum(0, b_flat - sellable)
    return I
