"""The records that flow between the bookings generator's stages (generate.py), one per stage's result.

Each is a struct of NumPy arrays, one element per request or booking of ONE property (the generator works a
property at a time: see dataset.property_partition), built once per stage, never per row. Times are UTC epoch
seconds, with generate.NEVER where a moment was never reached. Frozen: a stage that needs a changed array makes
its own, so a record read by two later stages means the same thing to both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from hotelseed.modules.bookings.demand import Requests


@dataclass(frozen=True)
class Lifecycle:
    """Each request's fate and timeline at one property (`_lifecycle`), arrays by request. Requests turned away
    for lack of rooms (`keep` False) never became bookings; the others each have a status at as-of."""

    pi: int  # the property's index in the world
    pw: Any  # the property (world.properties[pi])
    clock: Any  # the property's local clock (plan.make_clock)
    req: Requests  # the requests themselves (arrival, nights, channel, member, uniforms `u`, ...)
    keep: np.ndarray  # bool: the request became a booking
    status: np.ndarray  # booking status at as-of (object: HOLD, CONFIRMED, ..., "" for a turned-away request)
    plan_code: np.ndarray  # rate plan code after falling back to BAR where the room type lacks the chosen plan
    plan_id: np.ndarray  # the rate plan's id
    checkin_ts: np.ndarray  # when the guest arrives at the desk
    checkout_ts: np.ndarray  # when the guest leaves
    checkin_moment: np.ndarray  # the property's check-in time on the arrival day (cancellation deadlines count from it)
    audit_ts: np.ndarray  # the night audit after arrival (no-shows are recorded then), at most as-of
    pay_ts: np.ndarray  # web checkout: when the payment is made
    capture_ts: np.ndarray  # web checkout: when the payment is captured
    confirmed_ts: np.ndarray  # when the booking is (or would be) confirmed
    cancel_ts: np.ndarray  # when a cancelling guest cancels (the hold's release for a checkout abandoned on hold)
    hold_release_ts: np.ndarray  # when the inventory hold of a web checkout is released
    reject_ts: np.ndarray  # when a rejected booking is rejected
    complete_ts: np.ndarray  # when a checked-out booking is completed
    occupancy_at_booking: np.ndarray  # how full the booked room type was on the stay's nights when booked (0-1)
    room_slots: np.ndarray  # (n, MAX_ROOMS) the property's room index placed per booked room, -1 = none
    on_hold_cancel: np.ndarray  # bool: the web guest abandoned the checkout while the hold was on
    fail: np.ndarray  # bool: the web payment failed
    departure: np.ndarray  # local day of departure
    calibration: tuple = ()  # (scale, occupancy) of each calibration pass (simulate_property)

    _BY_ROW = ("keep", "status", "plan_code", "plan_id", "checkin_ts", "checkout_ts", "checkin_moment", "audit_ts",
               "pay_ts", "capture_ts", "confirmed_ts", "cancel_ts", "hold_release_ts", "reject_ts", "complete_ts",
               "occupancy_at_booking", "room_slots", "on_hold_cancel", "fail", "departure")

    def take(self, idx: np.ndarray) -> "Lifecycle":
        """The requests at `idx`, in that order (every array by request, the requests included)."""
        return replace(self, req=self.req.take(idx), **{name: getattr(self, name)[idx] for name in self._BY_ROW})


assert set(Lifecycle._BY_ROW) == {f.name for f in fields(Lifecycle)} - {"pi", "pw", "clock", "req", "calibration"}


@dataclass(frozen=True)
class PropertyBookings:
    """One property's bookings (the requests that became bookings), ordered by id: the lifecycle taken to those
    rows, their ids, and what most stages ask of them."""

    life: Lifecycle  # by booking, in id order
    id: np.ndarray  # booking ids (members' by member and trip, the others in the property's partition)
    id_base: int  # the property's partition's id base (core.partition.base)
    channel: np.ndarray  # source (str)
    status: np.ndarray  # status at as-of (str)
    is_member: np.ndarray  # bool: booked by a loyalty member
    is_web: np.ndarray  # bool: booked on the web site (held, paid online)
    is_ota: np.ndarray  # bool: delivered by an online travel agency

    @property
    def req(self) -> Requests:
        return self.life.req

    @property
    def pw(self):
        return self.life.pw

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class Bookers:
    """Who made each booking: a member (their own name and account) or a guest (new, or returning)."""

    guest_no: np.ndarray  # guest number (property index × GUEST_BLOCK + the guest's number at the property)
    country: np.ndarray  # the guest's country (a returning guest keeps theirs)
    guest_names: np.ndarray  # the generated guest's name (members' rows too; replaced by `name` there)
    guest_emails: np.ndarray
    guest_phones: np.ndarray
    registered_guest: np.ndarray  # bool: a non-member who booked on the web site (and so has a user)
    guest_user_id: np.ndarray  # their user's id (None for the others)
    name: np.ndarray  # the booker's name, e-mail and phone (the member's where a member booked)
    email: np.ndarray
    phone: np.ndarray
    user_id: np.ndarray  # the booker's user id, or None
    linked: np.ndarray  # bool: credited to the member's loyalty account (OTA bookings are not)
    account: np.ndarray  # loyalty account id where linked, else 0


@dataclass(frozen=True)
class Money:
    """What each booking costs: its nights' rates, totals, commission and cancellation fee (minor units)."""

    night_booking: np.ndarray  # by night of a booking (one room): the booking's row
    night_day: np.ndarray  # by night: the local day
    weekend_night: np.ndarray  # by night: a Friday or Saturday night
    rate: np.ndarray  # by night: the rate of one room, before tax
    net: np.ndarray  # by booking: all rooms' rates
    tax: np.ndarray  # by booking: all rooms' tax
    total: np.ndarray  # net + tax
    first_night: np.ndarray  # the first night's rate and tax, all rooms
    commission_pct: np.ndarray  # the OTA's commission (0 for other channels)
    commission: np.ndarray
    policy_id: np.ndarray  # cancellation policy of the rate plan (0 = none)
    fee: np.ndarray  # cancellation or no-show fee charged


@dataclass(frozen=True)
class Timeline:
    """When each booking reached each status (NEVER where it did not)."""

    confirmed_at: np.ndarray
    checked_in_at: np.ndarray
    checked_out_at: np.ndarray
    cancelled_at: np.ndarray
    hold_expires_at: np.ndarray  # web bookings' hold expiry
    in_house: np.ndarray  # bool: checked in (and perhaps out since)


@dataclass(frozen=True)
class StayRows:
    """The stays (one per booked room), by stay."""

    booking: np.ndarray  # the booking's row
    room_index: np.ndarray  # the room placed (index into the property's rooms), -1 = none
    room_id: np.ndarray  # the room's id, None where the booking holds no room
    id: np.ndarray


@dataclass(frozen=True)
class Desk:
    """Who at the property acts on each booking, and the room assignments made at check-in."""

    desk_user: np.ndarray  # by booking: the front-desk user (or manager) who serves it
    manager_user: np.ndarray  # by booking: the property's manager
    assigned_stay: np.ndarray  # by stay: bool, a room was assigned (the guest checked in to a placed room)
    assigned_booking: np.ndarray  # by assignment: the booking's row
    assigned_at: np.ndarray  # by assignment: when the room was assigned


@dataclass(frozen=True)
class PaymentInputs:
    """What the payments need, kept until the loyalty replay says which bookings had an award night."""

    plan: Any  # the run's plan (hotelseed.plan.Plan)
    bookings: PropertyBookings
    money: Money
    timeline: Timeline
    currency: np.ndarray  # by booking
