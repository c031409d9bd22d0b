"""How close the bookings are to real hotel demand: marginals per hotel kind against a published reference.

The reference (reference/hotel_booking_demand.json) holds the marginals of Antonio, de Almeida & Nunes
(2019), "Hotel booking demand datasets", for a city hotel and a resort; each metric is scored with the core
metric shapes (1 − TVD for distributions, 1 − |difference| for rates). The population is the one the
dataset has: reservations due to arrive before as-of, with their outcome (checked out, cancelled, no-show).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sqlalchemy.engine import Connection

from hotelseed.core.checks import cents, epoch, epoch_day, fetch
from hotelseed.core.metrics import Score, bin_labels, rate_score, shares_of, tvd_score

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
OUTCOME_OF_STATUS = {"CHECKED_IN": "Check-Out", "CHECKED_OUT": "Check-Out", "COMPLETED": "Check-Out",
                     "CANCELLED": "Canceled", "NO_SHOW": "No-Show"}


def load_reference() -> dict:
    path = resources.files("hotelseed") / "modules" / "bookings" / "reference" / "hotel_booking_demand.json"
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class BookingSample:
    """One row per booking of the compared population, as arrays."""

    kind: np.ndarray
    outcome: np.ndarray  # Check-Out / Canceled / No-Show
    lead_days: np.ndarray
    nights: np.ndarray
    arrival_day: np.ndarray  # days since 1970-01-01
    adr: np.ndarray  # lodging revenue per room-night, major units
    adults_per_room: np.ndarray
    children: np.ndarray
    source: np.ndarray
    repeated: np.ndarray
    changed: np.ndarray
    special_requests: np.ndarray
    room_type_changed: np.ndarray
    weekend_nights: np.ndarray
    domestic: np.ndarray
    currency: np.ndarray
    window: tuple[int, int]  # first and last arrival day of the population

    def take(self, mask: np.ndarray) -> "BookingSample":
        fields = {k: (v[mask] if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        return BookingSample(**fields)


def read_bookings(conn: Connection, as_of: int) -> BookingSample:
    d = conn.dialect.name
    as_of_day = as_of // 86_400
    rows = fetch(conn, f"""
        SELECT p.kind, b.status, {epoch(d, 'b.created_at')}, {epoch_day(d, 'b.check_in')},
               {epoch_day(d, 'b.check_out')}, {cents('b.net_amount')}, b.rooms, b.adults, b.children, b.source,
               b.special_requests, CASE WHEN b.country = p.country THEN 1 ELSE 0 END,
               coalesce(CAST(b.user_id AS VARCHAR(64)), b.email),
               CASE WHEN EXISTS (SELECT 1 FROM booking_audit_logs l WHERE l.booking_id = b.id AND l.action = 'MODIFY')
                    THEN 1 ELSE 0 END,
               CASE WHEN EXISTS (SELECT 1 FROM stays s JOIN rooms r ON r.id = s.room_id
                                 WHERE s.booking_id = b.id AND r.room_type_id <> s.room_type_id) THEN 1 ELSE 0 END,
               b.currency
        FROM bookings b JOIN properties p ON p.id = b.property_id
        WHERE b.status IN ('CHECKED_IN', 'CHECKED_OUT', 'COMPLETED', 'CANCELLED', 'NO_SHOW')
        ORDER BY b.id""")
    if not rows:
        empty = np.array([], dtype=np.int64)
        return BookingSample(*([np.array([], dtype=object)] * 2), *([empty] * 13), currency=np.array([], dtype=object),
                             window=(0, 0))
    cols = list(zip(*rows))
    kind = np.array(cols[0], dtype=object)
    status = np.array(cols[1], dtype=object)
    created = np.array(cols[2], dtype=np.int64)
    check_in = np.array(cols[3], dtype=np.int64)
    check_out = np.array(cols[4], dtype=np.int64)
    net = np.array(cols[5], dtype=np.int64)
    rooms = np.maximum(np.array(cols[6], dtype=np.int64), 1)
    guest = np.array(cols[12], dtype=object)
    nights = check_out - check_in
    # Repeat guest: this guest had a completed stay (checked out) before this booking was made.
    done = np.isin(status, ["CHECKED_OUT", "COMPLETED"])
    first_out: dict = {}
    for g, day in zip(guest[done], check_out[done]):
        if g is not None and (g not in first_out or day < first_out[g]):
            first_out[g] = day
    created_day = created // 86_400
    repeated = np.array([g is not None and g in first_out and first_out[g] <= c for g, c in zip(guest, created_day)])
    # Weekend nights: Friday and Saturday nights (the dataset's stays_in_weekend_nights).
    weekend = np.zeros(len(nights), dtype=np.int64)
    for k in range(int(nights.max()) if len(nights) else 0):
        on = k < nights
        wd = (check_in + k + 3) % 7  # Monday = 0
        weekend += on & ((wd == 4) | (wd == 5))
    sample = BookingSample(
        kind=kind, outcome=np.array([OUTCOME_OF_STATUS.get(s, "") for s in status], dtype=object),
        lead_days=np.maximum(check_in - created_day, 0), nights=nights, arrival_day=check_in,
        adr=net / 100.0 / np.maximum(nights * rooms, 1), adults_per_room=np.array(cols[7], dtype=np.int64) // rooms,
        children=np.array(cols[8], dtype=np.int64), source=np.array(cols[9], dtype=object), repeated=repeated,
        changed=np.array(cols[13], dtype=bool), special_requests=np.array(cols[10], dtype=np.int64),
        room_type_changed=np.array(cols[14], dtype=bool), weekend_nights=weekend,
        domestic=np.array(cols[11], dtype=bool), currency=np.array(cols[15], dtype=object), window=(int(check_in.min()), int(as_of_day) - 1))
    # The dataset's population: arrivals before as-of, with a known outcome.
    return sample.take((check_in < as_of_day) & (sample.outcome != ""))


def _month_shares(arrival_day: np.ndarray, window: tuple[int, int]) -> dict[str, float]:
    """Arrivals per covered day of each calendar month, scaled to the month's length (year-normalised)."""
    days = np.arange(window[0], window[1] + 1)
    month_of = lambda x: (np.asarray(x).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12)
    covered = np.bincount(month_of(days), minlength=12).astype(float)
    counts = np.bincount(month_of(arrival_day), minlength=12).astype(float)
    length = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    per_month = np.where(covered > 0, counts / np.maximum(covered, 1) * length, 0.0)
    total = per_month.sum()
    return {m: float(per_month[i] / total) if total else 0.0 for i, m in enumerate(MONTHS)}


def _edges(spec: list) -> list[tuple[str, float | None, float | None]]:
    return [(label, low, high) for label, low, high in spec]


def _adr_edges(ref: dict) -> list[tuple[str, float | None, float | None]]:
    """ADR bins from the reference's labels: '0', '(a, b]', '> c'."""
    edges = []
    for label in ref:
        if label == "0":
            edges.append((label, None, 0.0))
        elif label.startswith(">"):
            edges.append((label, float(label[1:]) + 1e-9, None))
        else:
            a, b = (float(x) for x in label.strip("(]").split(","))
            edges.append((label, a + 1e-9, b))
    return edges


def booking_scores(sample: BookingSample, reference: dict | None = None) -> list[Score]:
    reference = reference or load_reference()
    bins = reference["bins"]
    channel_of = reference["channel_of_source"]
    scores: list[Score] = []
    for kind, ref in reference["kinds"].items():
        s = sample.take(sample.kind == kind)
        n = len(s.kind)
        if n == 0:
            continue
        dist, rates = ref["distributions"], ref["rates"]
        not_cancelled = s.outcome != "Canceled"
        generated = {
            "status": shares_of(s.outcome, list(dist["status"])),
            "lead_time_days": shares_of(bin_labels(s.lead_days, _edges(bins["lead_time_days"])), list(dist["lead_time_days"])),
            "nights": shares_of(bin_labels(s.nights, _edges(bins["nights"])), list(dist["nights"])),
            "arrival_month": _month_shares(s.arrival_day, (max(s.window[0], int(s.arrival_day.min())), s.window[1])),
            "adr": shares_of(bin_labels(s.adr, _adr_edges(dist["adr"])), list(dist["adr"])),
            "party_size": shares_of(bin_labels(s.adults_per_room, _edges(bins["party_size"])), list(dist["party_size"])),
            "channel": shares_of(np.array([channel_of.get(x, "Undefined") for x in s.source], dtype=object),
                                 list(dist["channel"])),
        }
        for metric, ref_shares in dist.items():
            if metric == "adr" and reference.get("currency") and (s.currency != reference["currency"]).any():
                continue  # prices in another currency cannot be compared with the reference's
            g = generated[metric]
            scores.append(Score("bookings", kind, metric, "distribution", g, ref_shares, tvd_score(g, ref_shares), n))
        total_nights = float(s.nights.sum()) or 1.0
        generated_rates = {
            "cancellation_rate": float(np.mean(s.outcome != "Check-Out")),
            "share_with_children": float(np.mean(s.children > 0)),
            "repeated_guest": float(np.mean(s.repeated)),
            "booking_changed": float(np.mean(s.changed)),
            "special_request": float(np.mean(s.special_requests > 0)),
            "room_type_changed": float(np.mean(s.room_type_changed[not_cancelled])) if not_cancelled.any() else 0.0,
            "weekend_night_share": float(s.weekend_nights.sum()) / total_nights,
            "domestic_guest": float(np.mean(s.domestic)),
        }
        for metric, ref_rate in rates.items():
            g = generated_rates[metric]
            scores.append(Score("bookings", kind, metric, "rate", round(g, 6), ref_rate, rate_score(g, ref_rate), n))
    return scores


def occupancy(conn: Connection, as_of: int) -> dict[str, tuple[float, int, dict[str, float]]]:
    """Per property slug: (share of room-nights sold to stays that happened, over the window from the first
    arrival to as-of; room-nights in that window; occupancy by calendar month)."""
    d = conn.dialect.name
    as_of_day = as_of // 86_400
    rooms = {slug: int(n) for slug, n in fetch(conn, "SELECT p.slug, count(r.id) FROM properties p "
                                                     "JOIN rooms r ON r.property_id = p.id GROUP BY p.slug")}
    rows = fetch(conn, f"""SELECT p.slug, {epoch_day(d, 's.check_in_date')}, {epoch_day(d, 's.check_out_date')}
        FROM stays s JOIN properties p ON p.id = s.property_id WHERE s.status IN ('CHECKED_IN', 'CHECKED_OUT')""")
    first = fetch(conn, f"SELECT min({epoch_day(d, 'check_in')}) FROM bookings")[0][0]
    out = {}
    if first is None:
        return out
    first = int(first)
    days = np.arange(first, as_of_day)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    for slug, n_rooms in rooms.items():
        sold = np.zeros(len(days))
        for s, ci, co in rows:
            if s == slug:
                a, z = max(int(ci), first) - first, min(int(co), as_of_day) - first
                if z > a:
                    sold[a:z] += 1
        capacity = n_rooms * len(days)
        by_month = {m: float(sold[months == i].sum() / (n_rooms * max((months == i).sum(), 1)))
                    for i, m in enumerate(MONTHS)}
        out[slug] = (float(sold.sum() / capacity) if capacity else 0.0, capacity, by_month)
    return out


def occupancy_scores(conn: Connection, as_of: int, profile) -> list[Score]:
    """Each property's realised occupancy over the history window against its profile target."""
    if profile is None:
        return []
    targets = {p.slug: p.occupancy_target for p in profile.properties}
    scores = []
    for slug, (occ, capacity, _by_month) in occupancy(conn, as_of).items():
        if slug in targets:
            scores.append(Score("bookings", slug, "occupancy", "rate", round(occ, 6), targets[slug],
                                rate_score(occ, targets[slug]), capacity, note="target: profile occupancy_target"))
    return scores
