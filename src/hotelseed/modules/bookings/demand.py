"""Booking requests: who asks for which nights, through which channel, how far ahead.

Non-member demand arrives per property and day as a Poisson process whose rate follows the property's
target occupancy, the month and the weekday; members travel at their own heavy-tailed frequency. Lead time
and length of stay follow the profile's cited distributions per channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotelseed.core.rng import sample_categorical
from hotelseed.plan import DAY, Plan, make_clock

CHECK_IN_SOD = (13 * 3600, 15 * 3600, 21 * 3600)  # triangular (min, mode, max), platform.md §6.3
CHECK_OUT_SOD = (8 * 3600, 10.5 * 3600, 12 * 3600)


@dataclass
class Requests:
    """Struct of arrays, one element per booking request."""

    arrival: np.ndarray  # local day number
    nights: np.ndarray
    channel: np.ndarray  # source (object: WEB_DIRECT, OTA_MMT, ...)
    room_type: np.ndarray  # index into the property's room types
    rooms: np.ndarray
    adults: np.ndarray
    children: np.ndarray
    created_at: np.ndarray  # UTC epoch seconds
    checkin_sod: np.ndarray  # local seconds of day the guest arrives at the desk
    checkout_sod: np.ndarray
    member: np.ndarray  # member index, -1 = not a member
    u: np.ndarray  # (n, 20) uniforms for later decisions, drawn here so order never matters

    def __len__(self) -> int:
        return len(self.arrival)

    def take(self, idx) -> "Requests":
        return Requests(**{k: v[idx] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list["Requests"]) -> "Requests":
        return Requests(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Requests.__dataclass_fields__})


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def weekday(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _lognormal_days(rng, median: float, sigma: float, n: int) -> np.ndarray:
    if median <= 0:
        return np.zeros(n, dtype=np.int64)
    return np.floor(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64).clip(0, 500)


def _channels(rng, demand: dict, n: int, mix: dict) -> np.ndarray:
    names = list(mix)
    ch = np.array(names, dtype=object)[sample_categorical(rng.random(n), [mix[k] for k in names])]
    ota = ch == "OTA"
    if ota.any():
        split = demand["ota_split"]
        keys = list(split)
        ch[ota] = np.array(keys, dtype=object)[sample_categorical(rng.random(int(ota.sum())), [split[k] for k in keys])]
    return ch


def _lead_key(channel: np.ndarray) -> np.ndarray:
    return np.where(np.char.startswith(channel.astype(str), "OTA_"), "OTA", channel.astype(str))


def shape_requests(plan: Plan, pw, rng, arrival, channel, member, room_type=None) -> Requests:
    """Fill in everything about requests given arrival day, channel and booker."""
    d = plan.profile.demand
    n = len(arrival)
    los_pmf = np.asarray(d["los_pmf"], dtype=float)
    nights = 1 + sample_categorical(rng.random(n), los_pmf)
    if room_type is None:
        # Cheaper types sell more of their rooms (suites sell 30-40% of nights, platform.md §6.1).
        price = pw.plan_price["BAR"].astype(float)
        w = pw.room_type_count * (price.min() / price) ** 0.5
        room_type = sample_categorical(rng.random(n), w)
    group = channel == "GROUP"
    rooms = np.ones(n, dtype=np.int64)
    if group.any():
        cap = np.maximum(1, pw.room_type_count[room_type[group]] // 3)
        rooms[group] = np.minimum(2 + rng.integers(0, 4, int(group.sum())), cap)
    max_occ = pw.room_type_max_occ[room_type]
    adults = np.minimum(1 + sample_categorical(rng.random(n), d["adults_pmf"]), max_occ)
    children = ((rng.random(n) < d.get("children_share", 0.05)) & (adults < max_occ)).astype(np.int64)
    lead = np.zeros(n, dtype=np.int64)
    keys = _lead_key(channel)
    for key, (median, sigma) in d["lead_time"].items():
        m = keys == key
        if m.any():
            lead[m] = _lognormal_days(rng, median, sigma, int(m.sum()))
    lead[channel == "WALK_IN"] = 0
    checkin_sod = rng.triangular(*CHECK_IN_SOD, n).astype(np.int64)
    checkout_sod = rng.triangular(*CHECK_OUT_SOD, n).astype(np.int64)
    clock = make_clock(pw.timezone, plan.history_start_day - 600, plan.inventory_end_day + 2)
    created_day = arrival - lead
    # Bookings are made in waking hours; same-day ones before the guest reaches the desk.
    created_sod = (7 * 3600 + rng.random(n) * 16.5 * 3600).astype(np.int64)
    same_day = lead == 0
    created_sod[same_day] = (6 * 3600 + rng.random(int(same_day.sum())) * (checkin_sod[same_day] - 6.5 * 3600)).astype(np.int64)
    walk = channel == "WALK_IN"
    created_sod[walk] = checkin_sod[walk] - (300 + rng.random(int(walk.sum())) * 900).astype(np.int64)
    created_at = clock.utc(created_day, created_sod)
    return Requests(arrival=arrival.astype(np.int64), nights=nights.astype(np.int64), channel=channel,
                    room_type=room_type.astype(np.int64), rooms=rooms, adults=adults.astype(np.int64),
                    children=children, created_at=created_at, checkin_sod=checkin_sod, checkout_sod=checkout_sod,
                    member=member.astype(np.int64), u=rng.random((n, 20)))


def walk_in_demand(plan: Plan, pw, rng) -> Requests:
    """Non-member requests for every arrival day of the window, Poisson per day."""
    d = plan.profile.demand
    days = np.arange(plan.history_start_day, plan.future_end_day, dtype=np.int64)
    season = np.asarray(d["season"], dtype=float)
    week = np.asarray(d["weekday"], dtype=float)
    w = season[_month(days)] / season.mean() * week[weekday(days)] / week.mean()
    los_pmf = np.asarray(d["los_pmf"], dtype=float)
    alos = float((np.arange(1, len(los_pmf) + 1) * los_pmf).sum() / los_pmf.sum())
    expected_loss = 0.2  # cancellations and no-shows free about a fifth of booked nights (§6.3)
    rate = pw.room_type_count.sum() * pw.occupancy_target / alos / (1 - expected_loss) * w
    counts = rng.poisson(rate)
    arrival = np.repeat(days, counts)
    channel = _channels(rng, d, len(arrival), d["channels"])
    return shape_requests(plan, pw, rng, arrival, channel, np.full(len(arrival), -1))


def member_trips(plan: Plan, world, people) -> list[Requests]:
    """Each member's own bookings, from a per-member stream: member i books the same trips for any --members."""
    prof = plan.profile
    mcfg = prof.members
    median, sigma = mcfg["stays_per_year"]
    per_property: list[list[Requests]] = [[] for _ in world.properties]
    stream = plan.root.child("bookings", "members")
    n_props = len(world.properties)
    end = plan.as_of
    rate = median * np.exp(sigma * stream.normal(people.index, 0))
    # Segments with their own frequency (e.g. consultants on weekly assignments): a mixture, not one curve.
    u_seg = stream.uniform(people.index, 7)
    lower = 0.0
    for seg in mcfg.get("segments", []):
        m = (u_seg >= lower) & (u_seg < lower + seg["share"])
        s_med, s_sig = seg["stays_per_year"]
        rate[m] = s_med * np.exp(s_sig * stream.normal(people.index[m], 1))
        lower += seg["share"]
    home = stream.integers(people.index, n_props, 3)
    for i in range(len(people.index)):
        rng = stream.child(int(people.index[i])).generator()
        years = max(end - int(people.enrolled_at[i]), 0) / (365.25 * DAY)
        k = rng.poisson(rate[i] * years)
        if k == 0:
            continue
        created = int(people.enrolled_at[i]) + np.sort(rng.random(k)) * (end - int(people.enrolled_at[i]))
        prop = np.where(rng.random(k) < mcfg.get("home_property_share", 0.7), home[i], rng.integers(0, n_props, k))
        channel = _channels(rng, prof.demand, k, mcfg["channels"])
        lead = _lognormal_days(rng, 7, 1.1, k)
        lead[channel == "WALK_IN"] = 0
        arrival = (created // DAY).astype(np.int64) + lead + (lead == 0)  # arrive the next day at the earliest
        arrival[channel == "WALK_IN"] = (created[channel == "WALK_IN"] // DAY).astype(np.int64) + 1
        ok = (arrival >= plan.history_start_day) & (arrival < plan.future_end_day)
        for p in np.unique(prop[ok]):
            sel = ok & (prop == p)
            pw = world.properties[int(p)]
            r = shape_requests(plan, pw, rng, arrival[sel], channel[sel], np.full(int(sel.sum()), people.index[i]))
            # A member books only after enrolling (platform.md §4.5): users.created_at <= enrolled_at <= booking.
            r = r.take(r.created_at >= int(people.enrolled_at[i]) + 60)
            per_property[int(p)].append(r)
    return [Requests.concat(parts) if parts else None for parts in per_property]
