"""Booking requests: who asks for which nights, through which channel, how far ahead, on what terms.

Guests come in segments (profile `demand.segments`: OTA shoppers, tour operators, direct leisure, business,
groups, ...), each with its own channel mix, lead time, length of stay, party size, rate-plan choice and
propensity to cancel, change or ask for something. Non-member requests arrive per property and day as a
Poisson process whose rate follows the month and the weekday (per segment); members travel at their own
heavy-tailed frequency (loyalty behaviour, see `member_trips`). Every number comes from the profile.

Volume is found, not guessed: candidates are drawn once at `MAX_SCALE` times a first estimate and thinned
by a per-request uniform, so a larger volume is a superset of a smaller one and the calibration to the
property's target occupancy (generate.py) never reshuffles the requests it keeps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from hotelseed.core.rng import choose, sample_categorical
from hotelseed.plan import DAY, Plan, make_clock

CHECK_IN_SOD = (13 * 3600, 15 * 3600, 21 * 3600)  # triangular (min, mode, max), platform.md §6.3
CHECK_OUT_SOD = (8 * 3600, 10.5 * 3600, 12 * 3600)
MAX_SCALE = 2.0  # candidates drawn at twice the first estimate; calibration thins them
N_UNIFORMS = 24


@dataclass
class Requests:
    """Struct of arrays, one element per booking request."""

    arrival: np.ndarray  # local day number
    nights: np.ndarray
    channel: np.ndarray  # source (object: WEB_DIRECT, OTA_BOOKING_COM, ...)
    segment: np.ndarray  # index into profile.segments
    room_type: np.ndarray  # index into the property's room types
    rooms: np.ndarray
    adults: np.ndarray  # per room
    children: np.ndarray  # per room
    plan_code: np.ndarray  # rate plan the guest chose (object)
    special: np.ndarray  # special requests made
    country: np.ndarray  # guest's country (ISO 3166 alpha-2, object)
    created_at: np.ndarray  # UTC epoch seconds
    checkin_sod: np.ndarray  # local seconds of day the guest arrives at the desk
    checkout_sod: np.ndarray
    member: np.ndarray  # member index, -1 = not a member
    trip: np.ndarray  # the member's trip number (booking id = member_booking_ids), -1 = not a member's
    keep: np.ndarray  # thinning uniform: the request exists when keep < scale / MAX_SCALE
    u: np.ndarray  # (n, N_UNIFORMS) uniforms for later decisions, drawn here so order never matters

    def __len__(self) -> int:
        return len(self.arrival)

    def take(self, idx) -> "Requests":
        return Requests(**{k: v[idx] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list["Requests"]) -> "Requests":
        return Requests(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Requests.__dataclass_fields__})


@dataclass(frozen=True)
class PropertyDemand:
    """A property's calendar of demand: the profile's defaults with the property's own overrides."""

    kind: str
    season: np.ndarray  # arrival weight by month, Jan..Dec
    price_season: np.ndarray  # price index by month (mean 1)
    weekday: np.ndarray  # arrival weight by weekday, Mon..Sun
    stay_season: np.ndarray  # mean stay length by arrival month, relative to the segment's (1 = as given)
    room_change_share: float  # share of stays the desk puts in another (better) room type
    return_share: float  # share of non-member bookings by a guest who booked here before
    countries: tuple[str, ...]
    country_weights: np.ndarray


def property_demand(profile, pw) -> PropertyDemand:
    d = profile.demand
    spec = next((p for p in profile.properties if p.slug == pw.slug), None)
    own = spec.demand if spec is not None else {}
    season = np.asarray(own.get("season", d["season"]), dtype=float)
    if "price_season" in own or "price_season" in d:
        price = np.asarray(own.get("price_season", d.get("price_season")), dtype=float)
    else:  # price follows the arrival season, damped (season_price_elasticity)
        price = 1 + float(d.get("season_price_elasticity", 0.8)) * (season / season.mean() - 1)
    countries = own.get("guest_countries") or profile.guests.get("countries") or {"XX": 1.0}
    return_share = float(own.get("return_share", profile.guests.get("return_share", 0.03)))
    return PropertyDemand(
        kind=pw.kind, season=season, price_season=price / price.mean(),
        weekday=np.asarray(own.get("weekday", d["weekday"]), dtype=float),
        stay_season=np.asarray(own.get("stay_season", d.get("stay_season", [1.0] * 12)), dtype=float),
        room_change_share=float(own.get("room_change_share", d.get("room_change_share", 0.0))),
        return_share=return_share,
        countries=tuple(countries), country_weights=np.asarray(list(countries.values()), dtype=float))


@functools.lru_cache(maxsize=512)
def _tilted(pmf: tuple[float, ...], factor: float) -> np.ndarray:
    p = np.asarray(pmf, dtype=float) / sum(pmf)
    n = np.arange(1, len(p) + 1, dtype=float)
    goal = float((p * n).sum()) * factor
    lo, hi = -8.0, 8.0  # tilt p(n) ∝ p(n) · n^θ; the mean rises with θ
    for _ in range(60):
        mid = (lo + hi) / 2
        q = p * n ** mid
        if (q * n).sum() / q.sum() < goal:
            lo = mid
        else:
            hi = mid
    q = p * n ** ((lo + hi) / 2)
    return q / q.sum()


def stay_pmf(pmf: np.ndarray, factor: float) -> np.ndarray:
    """The stay-length pmf of a month whose stays are `factor` × as long on average (resort summers are
    week-long holidays): the segment's pmf exponentially tilted, p(n) · n^θ, to that mean."""
    if factor == 1.0:
        return pmf
    return _tilted(tuple(float(x) for x in pmf), round(factor, 6))


def month_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def weekday(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _lognormal_days(rng, median: float, sigma: float, n: int) -> np.ndarray:
    if median <= 0:
        return np.zeros(n, dtype=np.int64)
    return np.floor(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64).clip(0, 700)


def _truncated_lognormal_days(rng, median: float, sigma: float, cap: int, n: int) -> np.ndarray:
    """Lognormal days below `cap` (how far ahead the channel lets a guest book): draws beyond are redrawn."""
    days = _lognormal_days(rng, median, sigma, n)
    for _ in range(8):
        over = days > cap
        if not over.any():
            break
        days[over] = _lognormal_days(rng, median, sigma, int(over.sum()))
    return np.minimum(days, cap)


def _fit_party(pw, room_type: np.ndarray, guests: np.ndarray) -> np.ndarray:
    max_occ = pw.room_type_max_occ
    too_small = guests > max_occ[room_type]
    if not too_small.any():
        return room_type
    price = pw.plan_price["BAR"]
    by_price = np.argsort(price, kind="stable")
    out = room_type.copy()
    # The cheapest type that fits the party and costs no less than the one asked for: decided once per (party
    # size, type asked for), a few pairs for tens of thousands of requests.
    fit: dict[tuple[int, int], int] = {}
    idx = np.flatnonzero(too_small)
    for i, g, asked in zip(idx.tolist(), guests[idx].tolist(), room_type[idx].tolist()):
        if (g, asked) not in fit:
            fits = [t for t in by_price if max_occ[t] >= g and price[t] >= price[asked]]
            fit[(g, asked)] = fits[0] if fits else asked
        out[i] = fit[(g, asked)]
    return out


def _pick(rng, mix: dict, n: int) -> np.ndarray:
    return choose(mix, rng.random(n))


def _channels(rng, demand: dict, n: int, mix: dict) -> np.ndarray:
    ch = _pick(rng, mix, n)
    ota = ch == "OTA"
    if ota.any():
        ch[ota] = _pick(rng, demand["ota_split"], int(ota.sum()))
    return ch


def segment_los_mean(segment) -> float:
    pmf = segment.los_for()
    return float((np.arange(1, len(pmf) + 1) * pmf).sum() / pmf.sum())


def shape_requests(plan: Plan, pw, rng, arrival, channel, member, segment, lead=None, room_type=None) -> Requests:
    """Fill in everything about requests given arrival day, channel, booker and segment."""
    prof = plan.profile
    pd = property_demand(prof, pw)
    n = len(arrival)
    segment = np.asarray(segment, dtype=np.int64)
    nights = np.ones(n, dtype=np.int64)
    adults = np.ones(n, dtype=np.int64)
    children = np.zeros(n, dtype=np.int64)
    plan_code = np.full(n, "BAR", dtype=object)
    special = np.zeros(n, dtype=np.int64)
    draw_lead = lead is None
    lead = np.zeros(n, dtype=np.int64) if draw_lead else np.asarray(lead, dtype=np.int64).copy()
    if room_type is None:
        # Cheaper types sell more of their rooms (suites sell 30-40% of nights, platform.md §6.1).
        price = pw.plan_price["BAR"].astype(float)
        w = pw.room_type_count * (price.min() / price) ** 0.5
        room_type = sample_categorical(rng.random(n), w)
    for si in np.unique(segment):
        m = segment == si
        k = int(m.sum())
        sg = prof.segments_for(pd.kind)[int(si)]
        u_los = rng.random(k)
        months = month_of(arrival[m])
        sub = np.zeros(k, dtype=np.int64)
        for mo in np.unique(months):
            sel = months == mo
            sub[sel] = sample_categorical(u_los[sel], stay_pmf(sg.los_for(), float(pd.stay_season[mo])))
        nights[m] = 1 + sub
        adults[m] = 1 + sample_categorical(rng.random(k), sg.adults)
        children[m] = rng.random(k) < sg.children
        plan_code[m] = _pick(rng, sg.rate_plans, k)
        special[m] = np.where(rng.random(k) < sg.special_requests, 1 + (rng.random(k) < 0.3), 0)
        if draw_lead:
            median, sigma = sg.lead_time
            lead[m] = np.where(rng.random(k) < sg.same_day, 0,
                               1 + _truncated_lognormal_days(rng, median, sigma, sg.max_lead - 1, k))
    # A party books a room type it fits in: the cheapest one at least as good as its first choice.
    room_type = _fit_party(pw, np.asarray(room_type, dtype=np.int64), adults + children)
    max_occ = pw.room_type_max_occ[room_type]
    adults = np.minimum(adults, max_occ)
    children = np.minimum(children, max_occ - adults).astype(np.int64)
    # Members booking with the hotel get the member rate; corporate bookers their negotiated rate.
    plan_code[(member >= 0) & np.isin(channel, ["WEB_DIRECT", "PHONE", "WALK_IN"])] = "MEMBER"
    plan_code[channel == "CORPORATE"] = "CORP"
    plan_code[np.isin(channel, ["GROUP", "WALK_IN"]) & (member < 0)] = "BAR"
    group = channel == "GROUP"
    rooms = np.ones(n, dtype=np.int64)
    if group.any():
        cap = np.maximum(1, pw.room_type_count[room_type[group]] // 3)
        rooms[group] = np.minimum(2 + rng.integers(0, 4, int(group.sum())), cap)
    lead[channel == "WALK_IN"] = 0
    checkin_sod = rng.triangular(*CHECK_IN_SOD, n).astype(np.int64)
    checkout_sod = rng.triangular(*CHECK_OUT_SOD, n).astype(np.int64)
    clock = make_clock(pw.timezone, plan.history_start_day - 800, plan.inventory_end_day + 2)
    created_day = arrival - lead
    # Bookings are made in waking hours; same-day ones before the guest reaches the desk.
    created_sod = (7 * 3600 + rng.random(n) * 16.5 * 3600).astype(np.int64)
    same_day = lead == 0
    created_sod[same_day] = (6 * 3600 + rng.random(int(same_day.sum())) * (checkin_sod[same_day] - 6.5 * 3600)).astype(np.int64)
    walk = channel == "WALK_IN"
    created_sod[walk] = checkin_sod[walk] - (300 + rng.random(int(walk.sum())) * 900).astype(np.int64)
    created_at = clock.utc(created_day, created_sod)
    country = np.array(pd.countries, dtype=object)[sample_categorical(rng.random(n), pd.country_weights)]
    return Requests(arrival=arrival.astype(np.int64), nights=nights, channel=channel, segment=segment,
                    room_type=room_type.astype(np.int64), rooms=rooms, adults=adults, children=children,
                    plan_code=plan_code, special=special, country=country, created_at=created_at,
                    checkin_sod=checkin_sod, checkout_sod=checkout_sod, member=np.asarray(member, dtype=np.int64),
                    trip=np.full(n, -1, dtype=np.int64), keep=rng.random(n), u=rng.random((n, N_UNIFORMS)))


def cancel_probability(profile, kind: str, req: Requests, lead_days: np.ndarray) -> np.ndarray:
    """A guest's propensity to cancel, as odds: the segment's base rate at the reference lead time, moved by
    how far ahead the booking was made, the terms (non-refundable), special requests and membership
    (the relations of Antonio et al. 2017/2019: lead time and deposit are the strongest predictors)."""
    c = profile.demand.get("cancellation", {})
    base = np.array([sg.cancel for sg in profile.segments_for(kind)])[req.segment].clip(1e-4, 1 - 1e-4)
    logit = np.log(base / (1 - base))
    ref = float(c.get("reference_lead_days", 30))
    logit += float(c.get("lead_slope", 0.5)) * (np.log1p(lead_days) - np.log1p(ref))
    logit += np.log(float(c.get("nrf_odds", 0.25))) * (req.plan_code == "NRF")
    logit += np.log(float(c.get("special_request_odds", 0.6))) * (req.special > 0)
    logit += np.log(float(c.get("member_odds", 0.6))) * (req.member >= 0)
    channel_odds = c.get("channel_odds", {})
    for ch, odds in channel_odds.items():
        logit += np.log(float(odds)) * (req.channel == ch)
    return 1 / (1 + np.exp(-logit))


def segment_demand(plan: Plan, pw, rng, base_rate: float) -> Requests:
    """Candidate non-member requests for every arrival day of the window, Poisson per day and segment, at
    MAX_SCALE × base_rate arrivals a day on average; `keep` thins them to any scale up to MAX_SCALE."""
    prof = plan.profile
    pd = property_demand(prof, pw)
    days = np.arange(plan.history_start_day, plan.future_end_day, dtype=np.int64)
    season = pd.season[month_of(days)] / pd.season.mean()
    segments = prof.segments_for(pd.kind)
    shares = np.array([sg.share for sg in segments], dtype=float)
    shares = shares / shares.sum()
    parts = []
    for si, sg in enumerate(segments):
        if shares[si] <= 0:
            continue
        week = np.asarray(sg.weekday if sg.weekday is not None else pd.weekday, dtype=float)
        rate = MAX_SCALE * base_rate * shares[si] * season * week[weekday(days)] / week.mean()
        counts = rng.poisson(rate)
        arrival = np.repeat(days, counts)
        channel = _channels(rng, prof.demand, len(arrival), sg.channels)
        parts.append(shape_requests(plan, pw, rng, arrival, channel, np.full(len(arrival), -1),
                                    np.full(len(arrival), si)))
    return Requests.concat(parts)


def first_rate(plan: Plan, pw) -> float:
    """A first estimate of non-member arrivals a day: rooms × occupancy / mean stay / share not cancelled."""
    prof = plan.profile
    segments = prof.segments_for(pw.kind)
    shares = np.array([sg.share for sg in segments], dtype=float)
    shares = shares / shares.sum()
    alos = float(sum(s * segment_los_mean(sg) for s, sg in zip(shares, segments)))
    kept = float(sum(s * (1 - sg.cancel - sg.no_show) for s, sg in zip(shares, segments)))
    return float(pw.room_type_count.sum()) * pw.occupancy_target / alos / max(kept, 0.2)


def member_behaviour(profile) -> int:
    name = profile.members.get("behaviour")
    names = [sg.name for sg in profile.segments]
    return names.index(name) if name in names else 0


def member_rates(plan: Plan, people) -> np.ndarray:
    """Stays a year each member aims at, from a per-member stream: member i travels the same for any --members.

    With a tier-mix target (members.tier_mix) the travel frequency is the distribution that puts that share
    of members in each tier's qualifying band: a member's place in the population is a Weyl sequence (evenly
    spread for any number of members), and within the band the frequency is heavy-tailed towards the band's
    top. Without a target, a lognormal (median, sigma) with optional frequent-traveller segments."""
    mcfg = plan.profile.members
    stream = plan.root.child("bookings", "members")
    idx = people.index
    mix = mcfg.get("tier_mix")
    if mix:
        return _tier_band_rates(plan, idx, stream, mix)
    median, sigma = mcfg["stays_per_year"]
    rate = median * np.exp(sigma * stream.normal(idx, 0))
    # Segments with their own frequency (e.g. consultants on weekly assignments): a mixture, not one curve.
    u_seg = stream.uniform(idx, 7)
    lower = 0.0
    for seg in mcfg.get("segments", []):
        m = (u_seg >= lower) & (u_seg < lower + seg["share"])
        s_med, s_sig = seg["stays_per_year"]
        rate[m] = s_med * np.exp(s_sig * stream.normal(idx[m], 1))
        lower += seg["share"]
    return rate


GOLDEN = 0.6180339887498949


def _tier_band_rates(plan: Plan, idx: np.ndarray, stream, mix: dict) -> np.ndarray:
    from hotelseed.profile import TIERS

    prof = plan.profile
    shares = np.array([float(mix.get(t, 0.0)) for t in TIERS])
    cum = np.cumsum(shares / shares.sum())
    # Evenly spread positions (a Weyl sequence with a seed-dependent start): member i always has the same.
    offset = stream.uniform(np.array([0]), 12)[0]
    pos = (offset + (idx + 1) * GOLDEN) % 1.0
    band = np.searchsorted(cum, pos, side="right").clip(0, len(TIERS) - 1)
    # Qualifying stays per tier: the tier's stay threshold, or its nights threshold over the typical stay.
    seg = prof.segments[member_behaviour(prof)]
    alos = segment_los_mean(seg)
    need = []
    for t in prof.tiers:
        options = [v for v in (t.min_stays, t.min_nights / alos if t.min_nights else 0) if v > 0]
        need.append(min(options) if options else 0.0)
    need = np.array(need)
    # Not every booking becomes a credited stay (cancellations, OTA bookings, full nights).
    credit = credited_share(prof)
    nxt = np.append(need[1:], need[-1] * 2.0)
    # Aim at the middle of the band on a log scale (geometric mean of this tier's threshold and the next):
    # far enough from both edges that a year's ups and downs rarely move a member across one.
    mid = np.sqrt(np.maximum(need, 0.25) * nxt)
    mid[0] = min(0.25, nxt[0] * 0.12)  # the MEMBER band travels rarely: a stay every few years
    mid[-1] = need[-1] * 1.5
    u = stream.uniform(idx, 13)
    target = mid[band] * np.exp((u - 0.5) * 0.4) / credit
    # Tiers qualify per calendar year: a member enrolled this year (or late last year) has less of a year to
    # reach the band, so travels at the rate that reaches it in the time there is (at least a month).
    as_of = plan.as_of
    this_year = _year_start(as_of)
    enrolled = people_enrolled(plan, idx)
    last_year = np.clip((this_year - np.maximum(enrolled, _year_start(this_year - DAY))) / (365.25 * DAY), 0, 1)
    ytd = np.clip((as_of - np.maximum(enrolled, this_year)) / (365.25 * DAY), 0, 1)
    window = np.maximum(np.maximum(last_year, ytd), 1 / 12)
    return target / np.where(band == 0, 1.0, window)


def _year_start(ts: int) -> int:
    import datetime as dt

    year = dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).year
    return int(dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp())


def people_enrolled(plan: Plan, idx: np.ndarray) -> np.ndarray:
    from hotelseed.modules.identity.generate import enrolment_times

    return enrolment_times(plan, idx)


def credited_share(profile) -> float:
    """Share of a member's bookings that become credited stays: not through an OTA, not cancelled."""
    mcfg = profile.members
    ch = mcfg["channels"]
    ota = ch.get("OTA", 0.0) / sum(ch.values())
    sg = profile.segments[member_behaviour(profile)]
    odds = float(profile.demand.get("cancellation", {}).get("member_odds", 0.6))
    p = sg.cancel * odds / (1 - sg.cancel + sg.cancel * odds)
    return max((1 - ota) * (1 - p - sg.no_show), 0.2)


def member_trips(plan: Plan, world, people) -> list[Requests | None]:
    """Members' own bookings. When and where member i travels (how often, which property, channel, lead time)
    comes from the member's own stream, the same for any --members; what each trip is (room type, nights,
    party, plan) is drawn per property, for all members' trips there at once."""
    prof = plan.profile
    mcfg = prof.members
    stream = plan.root.child("bookings", "members")
    n_props = len(world.properties)
    end = plan.as_of
    rate = member_rates(plan, people)
    regular = bool(mcfg.get("tier_mix"))
    home = stream.integers(people.index, n_props, 3)
    # A member's country is the member's own, drawn once from the home property's guest mix.
    country = np.empty(len(people.index), dtype=object)
    for p_i, pw in enumerate(world.properties):
        m = home == p_i
        pd = property_demand(prof, pw)
        country[m] = np.array(pd.countries, dtype=object)[sample_categorical(stream.uniform(people.index[m], 14),
                                                                              pd.country_weights)]
    seg = member_behaviour(prof)
    median, sigma = mcfg.get("lead_time", (7, 1.1))
    # Some members lapse: they stop travelling at a moment of their membership (their earned tier then lapses
    # too, at the second 1 January after their last qualifying year). From the member's own counter stream.
    lapses = stream.uniform(people.index, 15) < float(mcfg.get("lapse_share", 0.0))
    lapse_at = people.enrolled_at + (stream.uniform(people.index, 16) * np.maximum(end - people.enrolled_at, 0)).astype(np.int64)
    trips: list[tuple] = []  # (property, member row, trip number, arrival, channel, lead) per member, as arrays
    for i in range(len(people.index)):
        rng = stream.child(int(people.index[i])).generator()
        years = max(end - int(people.enrolled_at[i]), 0) / (365.25 * DAY)
        span = end - int(people.enrolled_at[i])
        if regular:
            # Frequent travellers travel regularly (rotations, weekly clients): evenly spaced trips, jittered.
            expected = rate[i] * years
            k = min(int(np.floor(expected + rng.random())), 9_999)  # trip numbers fit member_booking_ids
            if k == 0:
                continue
            created = int(people.enrolled_at[i]) + (np.arange(k) + rng.random(k)) / k * span
        else:
            k = min(int(rng.poisson(rate[i] * years)), 9_999)
            if k == 0:
                continue
            created = int(people.enrolled_at[i]) + np.sort(rng.random(k)) * span
        prop = np.where(rng.random(k) < mcfg.get("home_property_share", 0.7), home[i], rng.integers(0, n_props, k))
        channel = _channels(rng, prof.demand, k, mcfg["channels"])
        lead = _lognormal_days(rng, median, sigma, k)
        lead[channel == "WALK_IN"] = 0
        arrival = (created // DAY).astype(np.int64) + lead + (lead == 0)  # arrive the next day at the earliest
        arrival[channel == "WALK_IN"] = (created[channel == "WALK_IN"] // DAY).astype(np.int64) + 1
        lead = arrival - (created // DAY).astype(np.int64)
        ok = np.flatnonzero((arrival >= plan.history_start_day) & (arrival < plan.future_end_day) &
                            ~(lapses[i] & (created >= lapse_at[i])))
        trips.append((prop[ok], np.full(len(ok), i), ok, arrival[ok], channel[ok], lead[ok]))
    if not trips:
        return [None] * n_props
    prop, row, trip, arrival, channel, lead = (np.concatenate([t[f] for t in trips]) for f in range(6))
    out: list[Requests | None] = []
    for p_i, pw in enumerate(world.properties):
        sel = np.flatnonzero(prop == p_i)
        if not len(sel):
            out.append(None)
            continue
        rng = stream.child("property", pw.slug).generator()
        r = shape_requests(plan, pw, rng, arrival[sel], channel[sel], people.index[row[sel]], np.full(len(sel), seg),
                           lead=lead[sel])
        r.keep[:] = 0.0  # members are never thinned: their trips are their own
        r.trip = trip[sel].astype(np.int64)  # the trip's number among the member's trips
        r.country = country[row[sel]]
        # A member books only after enrolling (platform.md §4.5): users.created_at <= enrolled_at <= booking.
        out.append(r.take(np.flatnonzero(r.created_at >= people.enrolled_at[row[sel]] + 60)))
    return out
