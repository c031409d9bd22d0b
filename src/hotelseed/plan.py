"""Plan: options → the world, counts, seed and as-of. Pure data; no database access here."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import asdict, dataclass, field

import numpy as np

from hotelseed.core.errors import UsageError
from hotelseed.core.rng import Stream
from hotelseed.profile import MAX_MEMBERS, Profile

DEFAULT_SEED = 20240611
DAY = 86_400


@dataclass(frozen=True)
class Options:
    seed: int = DEFAULT_SEED
    as_of: dt.datetime | None = None  # UTC; None = today at 12:00 UTC (a date, never the wall clock's time)
    members: int | None = None  # None = the profile's count
    history_months: int = 36
    future_months: int = 6
    keep_staff: bool = False
    profile: str | None = None
    properties: int | None = None  # None = the profile's; more repeats the profile's properties (profile.scaled)
    rooms_per_property: int | None = None  # None = the profile's room counts

    def as_json(self) -> dict:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        return d


# Size presets (--scale), for the default profile's 3 properties of ~57 rooms and 40 members a property; rows
# are measured in docs/BENCHMARKS.md. Members scale with properties unless given.
SCALES: dict[str, dict] = {
    "small": dict(properties=None, history_months=36, future_months=6),  # the profile as written (~1M rows)
    "medium": dict(properties=10, history_months=36, future_months=6),  # ~3M rows
    "large": dict(properties=30, history_months=36, future_months=6),  # ~10M rows
    "xlarge": dict(properties=100, history_months=36, future_months=6),  # ~100 properties × 3 years, ~33M rows
}


# How much one run may generate (docs/decisions.md, "Size bounds"), in room-months: rooms × (history + future
# months), which the rows, the memory and the time grow with. One property is one partition, generated whole in
# one process: 1,000 rooms over 13 months peaked at 1.1 GB, so 100,000 room-months is ~8 GB, a third of this
# 23 GB machine per worker. A run: 2.5 M room-months is ~10 × --scale xlarge (239,400), ~340 M rows, ~70 GB on
# PostgreSQL and about an hour at the measured 100,000 rows/s (docs/BENCHMARKS.md).
MAX_PROPERTY_ROOM_MONTHS = 100_000
MAX_RUN_ROOM_MONTHS = 2_500_000


def check_size(profile: Profile, months: int) -> None:
    """Refuse a plan larger than one partition or one run can be (the bounds above), naming what to reduce."""
    biggest = max(profile.properties, key=lambda p: p.rooms)
    if biggest.rooms * months > MAX_PROPERTY_ROOM_MONTHS:
        raise UsageError(f"property {biggest.slug} has {biggest.rooms:,} rooms over {months} months "
                         f"({biggest.rooms * months:,} room-months); one property may have at most "
                         f"{MAX_PROPERTY_ROOM_MONTHS:,} (rooms × months of history and future): give fewer rooms or months")
    rooms = sum(p.rooms for p in profile.properties)
    if rooms * months > MAX_RUN_ROOM_MONTHS:
        raise UsageError(f"{len(profile.properties):,} properties with {rooms:,} rooms over {months} months are "
                         f"{rooms * months:,} room-months; one run may have at most {MAX_RUN_ROOM_MONTHS:,} "
                         f"(about 10 × --scale xlarge): give fewer properties, rooms or months")


def scale_options(name: str | None, **given) -> dict:
    """Options of a --scale preset, with whatever was given explicitly (not None) taking precedence."""
    if name is not None and name not in SCALES:
        raise UsageError(f"--scale {name!r} is not one of {', '.join(SCALES)}")
    out = dict(SCALES[name]) if name else {}
    out.update({k: v for k, v in given.items() if v is not None})
    return out


# The as-of range, one for dates and date-times (UTC). Every timestamp of a run lies between as-of minus the
# longest history (240 months) and 800 days more (lead times up to 730 days, staff hired up to 730 days before the
# history; the clocks cover 800), and as-of plus the longest future (36 months) and 16 days of inventory. From
# 2000-01-01 that is after 1977-10 (epoch seconds stay positive: the generators store a negative one as NULL);
# before 2100-01-01 it is before 2103 (four-digit years, as every engine and the loader's formatter expect).
AS_OF_FIRST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
AS_OF_END = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)  # exclusive: the last as-of is 2099-12-31T23:59:59
AS_OF_RANGE = "between 2000-01-01 and 2099-12-31 (UTC)"


def parse_as_of(text: str | None, today: dt.date | None = None) -> dt.datetime:
    """A date (→ 12:00 UTC that day) or an ISO datetime (naive = UTC), in AS_OF_RANGE. Default: today's date
    at 12:00 UTC."""
    if text is None or text == "":
        d = today or dt.datetime.now(dt.timezone.utc).date()
        return dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc)
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            value = dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc)
        else:
            value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc).replace(microsecond=0)
    except (ValueError, OverflowError):  # not a date, or one whose UTC time falls outside year 1..9999
        raise UsageError(f"--as-of {text!r} is not a date (YYYY-MM-DD) or an ISO date-time {AS_OF_RANGE}") from None
    if not AS_OF_FIRST <= value < AS_OF_END:
        raise UsageError(f"--as-of {text!r} is outside the range hotelseed supports: it must be {AS_OF_RANGE}")
    return value


@dataclass(frozen=True)
class Clock:
    """One property's local calendar: day numbers (days since 1970-01-01) and UTC offsets per local day."""

    tz: str
    first_day: int
    offsets: np.ndarray  # seconds east of UTC at local noon, per day from first_day

    def offset(self, day: np.ndarray) -> np.ndarray:
        return self.offsets[np.clip(np.asarray(day) - self.first_day, 0, len(self.offsets) - 1)]

    def utc(self, day: np.ndarray, seconds_of_day: np.ndarray) -> np.ndarray:
        """Local (day, seconds after midnight) → UTC epoch seconds."""
        day = np.asarray(day, dtype=np.int64)
        return day * DAY + np.asarray(seconds_of_day).astype(np.int64) - self.offset(day)

    def local_day(self, ts: np.ndarray) -> np.ndarray:
        ts = np.asarray(ts, dtype=np.int64)
        approx = ts // DAY
        return (ts + self.offset(approx)) // DAY

    def local_seconds(self, ts: np.ndarray) -> np.ndarray:
        ts = np.asarray(ts, dtype=np.int64)
        return (ts + self.offset(ts // DAY)) % DAY

    @functools.cached_property
    def _offset_list(self) -> list[int]:
        return self.offsets.tolist()

    def local_seconds_at(self, ts: int) -> int:
        """local_seconds of one timestamp on Python ints: for loops that go event by event, where a NumPy call
        per value costs more than the arithmetic."""
        day = min(max(ts // DAY - self.first_day, 0), len(self.offsets) - 1)
        return (ts + self._offset_list[day]) % DAY


@functools.lru_cache(maxsize=64)
def make_clock(tz: str, first_day: int, last_day: int) -> Clock:
    zone = zoneinfo.ZoneInfo(tz)
    days = range(first_day - 1, last_day + 2)
    offs = []
    for d in days:
        noon = dt.datetime(1970, 1, 1) + dt.timedelta(days=d, hours=12)
        offs.append(int(zone.utcoffset(noon).total_seconds()))
    return Clock(tz, first_day - 1, np.array(offs, dtype=np.int64))


@dataclass
class Plan:
    options: Options
    profile: Profile
    as_of: int  # UTC epoch seconds
    history_start_day: int  # first arrival day (UTC calendar day number)
    future_end_day: int  # last arrival day (exclusive)
    members: int
    root: Stream = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def seed(self) -> int:
        return self.options.seed

    @property
    def as_of_datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.as_of, dt.timezone.utc)

    @property
    def inventory_end_day(self) -> int:
        return self.future_end_day + 16  # longest stay (14 nights) starting on the last arrival day, plus slack


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    import calendar

    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def make_plan(options: Options, profile: Profile) -> Plan:
    if options.members is not None and options.members < 0:
        raise UsageError("--members must be 0 or more")
    if not 1 <= options.history_months <= 240:
        raise UsageError("--history-months must be between 1 and 240")
    if not 0 <= options.future_months <= 36:
        raise UsageError("--future-months must be between 0 and 36")
    if options.as_of is not None and not AS_OF_FIRST <= options.as_of < AS_OF_END:
        raise UsageError(f"as-of {options.as_of.isoformat()} is outside the range hotelseed supports: it must be {AS_OF_RANGE}")
    if not 0 <= options.seed < 2**63:
        raise UsageError("--seed must be a non-negative 63-bit integer")
    from hotelseed.profile import scaled

    base_count = len(profile.properties)
    profile = scaled(profile, options.properties, options.rooms_per_property)
    check_size(profile, options.history_months + options.future_months)
    as_of = options.as_of or parse_as_of(None)
    as_of_date = as_of.date()
    start = _add_months(as_of_date, -options.history_months)
    end = _add_months(as_of_date, options.future_months)
    epoch = dt.date(1970, 1, 1)
    if options.members is not None:
        members = options.members
    else:  # the profile's members per property, for as many properties as there are
        members = round(int(profile.members.get("count", 120)) * len(profile.properties) / base_count)
    if members > MAX_MEMBERS:
        raise UsageError(f"--members must be at most {MAX_MEMBERS}")
    return Plan(options=options, profile=profile, as_of=int(as_of.timestamp()),
                history_start_day=(start - epoch).days, future_end_day=(end - epoch).days + 1,
                members=members, root=Stream(options.seed))
