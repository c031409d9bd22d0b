"""Profiles: a hotel group described as data (TOML), validated into typed objects.

A profile error names the file and the field, and is a usage error (exit 2): nothing is touched.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hotelseed.core.errors import UsageError

ISO_4217 = {  # currencies a profile may use (ISO 4217 active codes likely in a hotel market)
    "INR", "EUR", "USD", "GBP", "AUD", "CAD", "CHF", "JPY", "SGD", "AED", "THB", "IDR", "MYR", "NZD", "ZAR",
    "BRL", "MXN", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "TRY", "CNY", "HKD", "KRW", "LKR", "NPR", "VND",
}
ROLE_QUOTA_KEYS = ("STAFF_FRONTDESK", "STAFF_OPS", "MANAGER")
TIERS = ("MEMBER", "SILVER", "GOLD", "PLATINUM", "DIAMOND")
RATE_PLAN_CODES = ("BAR", "NRF", "MEMBER", "CORP", "PKG")
PROPERTY_KINDS = ("CITY", "RESORT")
CHANNELS = ("WEB_DIRECT", "PHONE", "WALK_IN", "CORPORATE", "GROUP", "OTA", "OTHER")
# Size bounds (docs/decisions.md, "Size bounds"): what one run can generate and load on the machine the tool is
# measured on. A property is one partition, held in memory while it is generated; staff passwords are argon2id
# hashes (~17 ms each).
MAX_ROOMS_PER_PROPERTY = 5_000  # also --rooms-per-property's bound
MAX_PROPERTIES = 10_000  # also --properties' bound
MAX_STAFF_QUOTA = 100  # per role and property
MAX_ADMINS = 100
MAX_MEMBERS = 999_999  # member numbers have six digits; also --members' bound
MAX_LEAD_DAYS = 730  # a channel's booking horizon; plan.AS_OF_FIRST allows for it


@dataclass(frozen=True)
class RoomTypeSpec:
    code: str
    name: str
    count: int
    base_price: int  # minor units
    max_occupancy: int
    bed: str


@dataclass(frozen=True)
class PropertySpec:
    slug: str
    name: str
    code: str
    kind: str
    city: str
    state: str
    country: str
    timezone: str
    currency: str
    check_in_time: str
    check_out_time: str
    overbooking_enabled: bool
    buffer_pct: int
    occupancy_target: float
    staff: dict[str, int]
    room_types: tuple[RoomTypeSpec, ...]
    # Demand overrides of this property (season, price_season, weekday, room_change_share, guest_countries).
    demand: dict[str, Any] = field(default_factory=dict)

    @property
    def rooms(self) -> int:
        return sum(rt.count for rt in self.room_types)


@dataclass(frozen=True)
class PolicySpec:
    code: str
    name: str
    free_until_hours: int | None
    penalty_pct: int
    penalty_basis: str


@dataclass(frozen=True)
class RatePlanSpec:
    code: str
    name: str
    discount_pct: int
    refundable: bool
    policy: str
    weekend_uplift_pct: int
    min_los: int = 1
    max_los: int = 30


@dataclass(frozen=True)
class SegmentSpec:
    """A kind of guest with its own booking behaviour (Synthea-style: behaviour as data with cited numbers),
    resolved for one property kind (any field may be given per kind in the profile: { CITY = .., RESORT = .. })."""

    name: str
    share: float  # share of non-member requests at properties of this kind
    channels: dict[str, float]
    lead_time: tuple[float, float]  # lognormal (median days, sigma)
    same_day: float  # share booked on the arrival day
    los: tuple[float, ...]  # nights 1..N pmf
    adults: tuple[float, ...]  # adults per room 1..N pmf
    children: float
    rate_plans: dict[str, float]
    cancel: float  # cancellation probability at the reference lead time, before the other odds
    no_show: float
    special_requests: float
    changes: float
    weekday: tuple[float, ...] | None  # arrival weekday weights Mon..Sun; None = the property's
    max_lead: int = 500  # how far ahead the channel takes bookings (days)

    def los_for(self, kind: str | None = None) -> np.ndarray:
        return np.asarray(self.los, dtype=float)


@dataclass(frozen=True)
class TierSpec:
    tier: str
    min_points: int
    min_stays: int
    min_nights: int
    min_spend: int  # minor units
    base_points_per_100: int
    benefits: tuple[str, ...]


@dataclass
class Profile:
    source: str
    name: str
    description: str
    name_locale: str
    phone_scheme: str
    guest_email_domains: tuple[str, ...]
    staff_email_domain: str
    organization: dict[str, str]
    brand: dict[str, str]
    admins: int
    properties: tuple[PropertySpec, ...]
    policies: tuple[PolicySpec, ...]
    rate_plans: tuple[RatePlanSpec, ...]
    tax_slabs: tuple[dict[str, Any], ...]
    demand: dict[str, Any]
    payments: dict[str, Any]
    members: dict[str, Any]
    tiers: tuple[TierSpec, ...]
    segments_by_kind: dict[str, tuple[SegmentSpec, ...]]
    guests: dict[str, Any]
    points_rules: tuple[dict[str, Any], ...]
    perks: tuple[dict[str, Any], ...]
    redemption_items: tuple[dict[str, Any], ...]
    comms: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def currency(self) -> str:
        return self.properties[0].currency

    def segments_for(self, kind: str) -> tuple[SegmentSpec, ...]:
        """The segments with their behaviour at properties of `kind` (same order for every kind)."""
        return self.segments_by_kind[kind if kind in self.segments_by_kind else PROPERTY_KINDS[0]]

    @property
    def segments(self) -> tuple[SegmentSpec, ...]:
        return self.segments_for(self.properties[0].kind)


RESERVED_EMAIL = re.compile(r"(^|\.)(example\.(com|net|org)|[a-z0-9-]+\.(test|invalid|example)|"
                            r"test|invalid|example)$")


def is_reserved_domain(domain: str) -> bool:
    """RFC 2606 / RFC 6761 reserved names: example.com/.net/.org and the .test/.invalid/.example TLDs. Not
    .localhost, though reserved: it resolves to this machine, whose mail server could deliver."""
    return bool(RESERVED_EMAIL.search(domain.lower()))


def default_profile_path() -> Path:
    return Path(str(resources.files("hotelseed") / "profiles" / "default.toml"))


def load_profile(path: str | Path | None = None) -> Profile:
    if path is not None and not str(path).strip():
        raise UsageError("--profile is empty: give a profile file or a shipped name (default, lisbon-algarve)")
    p = Path(path) if path else default_profile_path()
    shipped = Path(str(resources.files("hotelseed") / "profiles" / f"{path}.toml")) if path else None
    if not p.is_file() and shipped is not None and "/" not in str(path) and shipped.is_file():
        p = shipped  # a shipped profile by name: --profile lisbon-algarve
    if not p.is_file():
        raise UsageError(f"profile not found: {p}")
    data = _read_toml(p)
    base = data.get("profile", {}).get("extends")
    if base is not None:
        # A profile may extend another (a shipped profile's name or a path next to it). Tables merge key by
        # key; a table of numbers (a mix of shares) and a list replace the base's whole, so the shares of
        # two markets never mix.
        base_path = Path(str(resources.files("hotelseed") / "profiles" / f"{base}.toml"))
        if not base_path.is_file():
            base_path = (p.parent / str(base)).resolve()
        if not base_path.is_file() or base_path.resolve() == p.resolve():
            raise UsageError(f"profile {p}: profile.extends {base!r} is not a shipped profile or a file")
        parent = _read_toml(base_path)
        if parent.get("profile", {}).get("extends"):
            raise UsageError(f"profile {p}: extends {base!r}, which extends another profile (one level only)")
        data = _merge(parent, data)
    _check_text(data, str(p))
    try:
        return _build(data, str(p))
    except UsageError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"profile {p}: {what}") from None


def _merge(base: dict, child: dict) -> dict:
    out = dict(base)
    for key, value in child.items():
        shares = isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values())
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not shares:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(p: Path) -> dict:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"profile {p} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"profile {p} is not UTF-8 text") from None


def _check_text(value: Any, source: str, where: str = "") -> None:
    """No control characters in a profile's keys and text: PostgreSQL's text cannot hold NUL, and a name, code or
    address with one makes no sense on either engine. Tab, newline and carriage return are text."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        at = f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]"
        at = at.lstrip(".")
        for text in ((key, item) if isinstance(key, str) else (item,)):
            bad = next((c for c in text if (ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127), None) \
                if isinstance(text, str) else None
            if bad is not None:
                raise UsageError(f"profile {source}: {at} holds the control character U+{ord(bad):04X}; "
                                 f"profile text must be printable")
        _check_text(item, source, at)


def _bounded(value: Any, low: int, high: int, where: str) -> int:
    """A whole number in [low, high], or a usage error that states the bounds."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{where} must be a whole number from {low} to {high:,}, got {value!r}")
    return value


def _money(value: Any, where: str) -> int:
    if not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{where} must be a non-negative amount, got {value!r}")
    return int(round(value * 100))


def _share(d: dict, where: str) -> dict:
    if not isinstance(d, dict) or not d:
        raise UsageError(f"{where} must be a non-empty table of shares")
    for k, v in d.items():
        if not isinstance(v, (int, float)) or v < 0:
            raise UsageError(f"{where}.{k} must be a non-negative number")
    if sum(d.values()) <= 0:
        raise UsageError(f"{where} shares add up to 0")
    return d


def _time(value: str, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise UsageError(f"{where} must be HH:MM, got {value!r}")
    return value


def _build(d: dict, source: str) -> Profile:
    meta = d["profile"]
    domains = tuple(meta.get("guest_email_domains", ["example.com"]))
    for dom in (*domains, meta["staff_email_domain"]):
        if not is_reserved_domain(dom):
            raise UsageError(f"e-mail domain {dom!r} is not reserved (RFC 2606/6761): seeded mail could reach a person")
    props = []
    seen_slugs, seen_codes = set(), set()
    for i, pd in enumerate(d["properties"]):
        where = f"properties[{i}] ({pd.get('slug', '?')})"
        if pd["slug"] in seen_slugs or pd["code"] in seen_codes:
            raise UsageError(f"{where}: duplicate slug or code")
        seen_slugs.add(pd["slug"]), seen_codes.add(pd["code"])
        if pd["currency"] not in ISO_4217:
            raise UsageError(f"{where}: unknown currency {pd['currency']!r}")
        try:
            zoneinfo.ZoneInfo(pd["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"{where}: unknown timezone {pd['timezone']!r}") from None
        rts = []
        for j, rt in enumerate(pd.get("room_types", [])):
            _bounded(rt.get("count"), 1, MAX_ROOMS_PER_PROPERTY, f"{where}.room_types[{j}].count")
            rts.append(RoomTypeSpec(rt["code"], rt["name"], rt["count"], _money(rt["base_price"], f"{where} price"),
                                    int(rt.get("max_occupancy", 2)), rt.get("bed", "")))
        if not rts:
            raise UsageError(f"{where}: a property needs at least one room type with rooms")
        if len({r.code for r in rts}) != len(rts):
            raise UsageError(f"{where}: duplicate room type code")
        if "rooms" in pd and pd["rooms"] != sum(r.count for r in rts):
            raise UsageError(f"{where}: rooms = {pd['rooms']} but room types add up to {sum(r.count for r in rts)}")
        if sum(r.count for r in rts) > MAX_ROOMS_PER_PROPERTY:
            raise UsageError(f"{where}: room types add up to {sum(r.count for r in rts):,} rooms; a property may "
                             f"have at most {MAX_ROOMS_PER_PROPERTY:,}")
        staff = {k: _bounded(pd["staff"].get(k, 0), 0, MAX_STAFF_QUOTA, f"{where}.staff.{k}") for k in ROLE_QUOTA_KEYS}
        if staff["MANAGER"] != 1 or staff["STAFF_FRONTDESK"] < 1 or staff["STAFF_OPS"] < 1:
            raise UsageError(f"{where}: staff needs exactly 1 MANAGER and at least 1 STAFF_FRONTDESK and 1 STAFF_OPS")
        occ = float(pd.get("occupancy_target", 0.65))
        if not 0 < occ <= 1:
            raise UsageError(f"{where}: occupancy_target must be in (0, 1]")
        props.append(PropertySpec(
            pd["slug"], pd["name"], pd["code"], pd.get("kind", "CITY"), pd["city"], pd.get("state", ""),
            pd["country"], pd["timezone"], pd["currency"], _time(pd["check_in_time"], f"{where}.check_in_time"),
            _time(pd["check_out_time"], f"{where}.check_out_time"), bool(pd.get("overbooking_enabled", False)),
            int(pd.get("buffer_pct", 0)), occ, staff, tuple(rts), _property_demand(pd.get("demand", {}), where)))
        if props[-1].kind not in PROPERTY_KINDS:
            raise UsageError(f"{where}: kind must be one of {', '.join(PROPERTY_KINDS)}")
    if not props:
        raise UsageError("a profile needs at least one property")
    if len(props) > MAX_PROPERTIES:
        raise UsageError(f"a profile may describe at most {MAX_PROPERTIES:,} properties, this one has {len(props):,}")
    if len({p.currency for p in props}) != 1:
        raise UsageError("all properties of a profile must share one currency")
    policies = tuple(PolicySpec(c["code"], c["name"], c.get("free_until_hours"), int(c["penalty_pct"]),
                                c.get("penalty_basis", "FIRST_NIGHT")) for c in d["cancellation_policies"])
    policy_codes = {p.code for p in policies}
    plans = []
    for code, rp in d["rate_plans"].items():
        if code not in RATE_PLAN_CODES:
            raise UsageError(f"rate_plans.{code}: unknown rate plan code (one of {', '.join(RATE_PLAN_CODES)})")
        if rp["policy"] not in policy_codes:
            raise UsageError(f"rate_plans.{code}: unknown cancellation policy {rp['policy']!r}")
        plans.append(RatePlanSpec(code, rp["name"], int(rp["discount_pct"]), bool(rp.get("refundable", True)),
                                  rp["policy"], int(rp.get("weekend_uplift_pct", 0)), int(rp.get("min_los", 1)),
                                  int(rp.get("max_los", 30))))
    if "BAR" not in {p.code for p in plans}:
        raise UsageError("rate_plans: a BAR plan is required")
    tiers = tuple(TierSpec(t["tier"], int(t["min_points"]), int(t["min_stays"]), int(t["min_nights"]),
                           _money(t["min_spend"], f"tiers.{t['tier']}.min_spend"), int(t["base_points_per_100"]),
                           tuple(t.get("benefits", []))) for t in d["tiers"])
    if tuple(t.tier for t in tiers) != TIERS:
        raise UsageError(f"tiers must be exactly {', '.join(TIERS)} in rank order")
    demand = d["demand"]
    if len(demand["season"]) != 12 or len(demand["weekday"]) != 7:
        raise UsageError("demand.season needs 12 monthly values and demand.weekday 7 daily values")
    _share(demand["ota_split"], "demand.ota_split")
    raw_segments = demand.get("segments", [])
    if not raw_segments:
        raise UsageError("demand.segments: a profile needs at least one guest segment")
    segments_by_kind = {k: tuple(_segment(sd, i, k) for i, sd in enumerate(raw_segments)) for k in PROPERTY_KINDS}
    names = [sg.name for sg in segments_by_kind[PROPERTY_KINDS[0]]]
    if len(set(names)) != len(names):
        raise UsageError("demand.segments: duplicate segment name")
    for kind in {p.kind for p in props}:
        if sum(sg.share for sg in segments_by_kind[kind]) <= 0:
            raise UsageError(f"demand.segments: no segment has a share for {kind} properties")
    members_seg = d["members"].get("behaviour")
    if members_seg is not None and members_seg not in names:
        raise UsageError(f"members.behaviour: unknown segment {members_seg!r}")
    mix = d["members"].get("tier_mix")
    if mix is not None:
        _share(mix, "members.tier_mix")
        if set(mix) - set(TIERS):
            raise UsageError(f"members.tier_mix: unknown tier {sorted(set(mix) - set(TIERS))[0]!r}")
    elif "stays_per_year" not in d["members"]:
        raise UsageError("members: set tier_mix (the tier mix to aim for) or stays_per_year (median, sigma)")
    guests = d.get("guests", {})
    if "countries" in guests:
        _share(guests["countries"], "guests.countries")
    _share(d["comms"]["channels"], "comms.channels")
    members = d["members"]
    _bounded(members.get("count", 120), 0, MAX_MEMBERS, "members.count")
    admins = _bounded(d.get("staff", {}).get("admins", 1), 1, MAX_ADMINS, "staff.admins")
    for slab in d["tax_slabs"]:
        dt.date.fromisoformat(slab["effective_from"])
    return Profile(
        source=source, name=meta["name"], description=meta.get("description", ""),
        name_locale=meta.get("name_locale", "en_US"), phone_scheme=meta.get("phone_scheme", "IN_TRUNK_ZERO"),
        guest_email_domains=domains, staff_email_domain=meta["staff_email_domain"],
        organization=d["organization"], brand=d["brand"], admins=admins,
        properties=tuple(props), policies=policies, rate_plans=tuple(plans),
        tax_slabs=tuple(sorted(d["tax_slabs"], key=lambda s: s["effective_from"])), demand=demand,
        payments=d["payments"], members=members, tiers=tiers, segments_by_kind=segments_by_kind, guests=guests, points_rules=tuple(d.get("points_rules", [])),
        perks=tuple(d.get("perks", [])), redemption_items=tuple(d.get("redemption_items", [])), comms=d["comms"],
        raw=d)


def _pmf(values: Any, where: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not values or any(not isinstance(v, (int, float)) or v < 0 for v in values):
        raise UsageError(f"{where} must be a non-empty list of non-negative weights")
    if sum(values) <= 0:
        raise UsageError(f"{where} weights add up to 0")
    return tuple(float(v) for v in values)


def _property_demand(pd: dict, where: str) -> dict:
    out = dict(pd)
    for key, n in (("season", 12), ("price_season", 12), ("stay_season", 12), ("weekday", 7)):
        if key in out and len(_pmf(out[key], f"{where}.demand.{key}")) != n:
            raise UsageError(f"{where}.demand.{key} needs {n} values")
    if any(v <= 0 for v in out.get("stay_season", [1.0])):
        raise UsageError(f"{where}.demand.stay_season values must be above 0")
    if "guest_countries" in out:
        _share(out["guest_countries"], f"{where}.demand.guest_countries")
    if not 0 <= float(out.get("room_change_share", 0.0)) <= 1:
        raise UsageError(f"{where}.demand.room_change_share must be in [0, 1]")
    return out


def _for_kind(value: Any, kind: str) -> Any:
    """A value given per property kind ({ CITY = .., RESORT = .. }) resolved for `kind`; others as they are."""
    if isinstance(value, dict) and value and set(value) <= set(PROPERTY_KINDS):
        return value.get(kind, 0.0 if all(isinstance(v, (int, float)) for v in value.values()) else next(iter(value.values())))
    return value


def _segment(raw: dict, i: int, kind: str) -> SegmentSpec:
    where = f"demand.segments[{i}] ({raw.get('name', '?')})"
    if isinstance(raw.get("share"), dict) and set(raw["share"]) - set(PROPERTY_KINDS):
        raise UsageError(f"{where}.share: unknown property kind {sorted(set(raw['share']) - set(PROPERTY_KINDS))[0]!r}")
    sd = {k: _for_kind(v, kind) for k, v in raw.items()}
    share = sd["share"]
    if not isinstance(share, (int, float)) or share < 0:
        raise UsageError(f"{where}.share must be a non-negative number, or one per property kind")
    channels = _share(sd["channels"], f"{where}.channels")
    if set(channels) - set(CHANNELS):
        raise UsageError(f"{where}.channels: unknown channel {sorted(set(channels) - set(CHANNELS))[0]!r}")
    median, sigma = sd["lead_time"]
    if median < 0 or sigma < 0:
        raise UsageError(f"{where}.lead_time must be [median days >= 0, sigma >= 0]")
    rate_plans = _share(sd.get("rate_plans", {"BAR": 1.0}), f"{where}.rate_plans")
    if set(rate_plans) - set(RATE_PLAN_CODES):
        raise UsageError(f"{where}.rate_plans: unknown rate plan {sorted(set(rate_plans) - set(RATE_PLAN_CODES))[0]!r}")
    probs = {k: float(sd.get(k, 0.0)) for k in ("cancel", "no_show", "special_requests", "changes", "children", "same_day")}
    for k, v in probs.items():
        if not 0 <= v <= 1:
            raise UsageError(f"{where}.{k} must be a probability in [0, 1]")
    max_lead = int(sd.get("max_lead", 500))  # 0 where given for other kinds only ({ CITY = .. }): unused here
    if not 0 <= max_lead <= MAX_LEAD_DAYS:
        raise UsageError(f"{where}.max_lead must be from 1 to {MAX_LEAD_DAYS} days, got {max_lead}")
    weekday = sd.get("weekday")
    if weekday is not None and len(_pmf(weekday, f"{where}.weekday")) != 7:
        raise UsageError(f"{where}.weekday needs 7 values")
    return SegmentSpec(sd["name"], float(share), channels, (float(median), float(sigma)), probs["same_day"],
                       _pmf(sd["los"], f"{where}.los"), _pmf(sd.get("adults", [0.3, 0.7]), f"{where}.adults"),
                       probs["children"], rate_plans, probs["cancel"], probs["no_show"], probs["special_requests"],
                       probs["changes"], tuple(weekday) if weekday else None, max_lead)


def _copy_codes(taken: set[str], count: int) -> list[str]:
    """`count` new three-character property codes (AA0, AA1, ...), none already taken."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    out = []
    for a in alphabet[:24]:
        for b in alphabet[:24]:
            for c in alphabet:
                code = a + b + c
                if code not in taken:
                    out.append(code)
                    taken.add(code)
                    if len(out) == count:
                        return out
    raise UsageError(f"no room for {count} more property codes")


def scaled(profile: Profile, properties: int | None = None, rooms_per_property: int | None = None) -> Profile:
    """The profile at another size: its properties repeated in order up to `properties` (copy k of a property
    is `<slug>-k`, same city, market and behaviour), and/or every property's room types scaled to about
    `rooms_per_property` rooms (each type keeps its share, at least one room). A pure function of its inputs,
    so every shard and worker sees the same group."""
    import dataclasses

    if properties is None and rooms_per_property is None:
        return profile
    if properties is not None and not 1 <= properties <= MAX_PROPERTIES:
        raise UsageError(f"--properties must be between 1 and {MAX_PROPERTIES}")
    if rooms_per_property is not None and not 1 <= rooms_per_property <= MAX_ROOMS_PER_PROPERTY:
        raise UsageError(f"--rooms-per-property must be between 1 and {MAX_ROOMS_PER_PROPERTY}")
    base = list(profile.properties)
    specs = base[:properties] if properties is not None else base
    if properties is not None and properties > len(base):
        codes = _copy_codes({p.code for p in base}, properties - len(base))
        for k in range(len(base), properties):
            template = base[k % len(base)]
            copy = k // len(base) + 1
            specs.append(dataclasses.replace(template, slug=f"{template.slug}-{copy}", name=f"{template.name} {copy}",
                                             code=codes[k - len(base)]))
    if rooms_per_property is not None:
        resized = []
        for p in specs:
            factor = rooms_per_property / p.rooms
            types = tuple(dataclasses.replace(rt, count=max(1, round(rt.count * factor))) for rt in p.room_types)
            resized.append(dataclasses.replace(p, room_types=types))
        specs = resized
    return dataclasses.replace(profile, properties=tuple(specs))
