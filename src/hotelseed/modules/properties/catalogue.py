"""The catalogue (organization, brand, properties, room types, rooms, policies, rate plans, loyalty
catalogue, roles): created from the profile when missing, never wiped; then read back as the World that
generators work on. The database copy is authoritative: an existing catalogue is used as it is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed.core import loader
from hotelseed.core.errors import DatabaseStateError
from hotelseed.core.columns import Columns, object_column
from hotelseed.core.fake import phone_numbers
from hotelseed.models import metadata
from hotelseed.modules.identity.models import ROLE_KEYS
from hotelseed.profile import Profile

ROLE_PERMISSIONS = {
    "GUEST": ["booking:own"], "MEMBER": ["booking:own", "loyalty:own"],
    "STAFF_FRONTDESK": ["booking:read", "booking:check_in", "booking:check_out", "booking:no_show", "thread:reply"],
    "STAFF_OPS": ["inventory:write", "rates:write", "thread:reply"],
    "MANAGER": ["property:*", "booking:cancel", "booking:reject", "refund:approve", "staff:manage"],
    "ADMIN": ["org:*"], "SUPERADMIN": ["*"],
}


@dataclass
class PropertyWorld:
    id: int
    slug: str
    code: str
    name: str
    kind: str
    timezone: str
    currency: str
    phone: str
    email: str
    check_in_minutes: int
    check_out_minutes: int
    overbooking_enabled: bool
    buffer_pct: int
    occupancy_target: float
    staff_quota: dict[str, int]
    room_type_ids: np.ndarray
    room_type_codes: list[str]
    room_type_rank: np.ndarray
    room_type_count: np.ndarray
    room_type_max_occ: np.ndarray
    room_ids: np.ndarray
    room_type_of_room: np.ndarray  # index into room_type_ids
    plan_ids: dict[str, np.ndarray]  # rate plan code → id per room type (0 = no such plan)
    plan_price: dict[str, np.ndarray]  # code → price (minor units) per room type
    plan_uplift: dict[str, int]
    plan_policy: dict[str, int]


@dataclass
class World:
    org_id: int
    brand_id: int
    properties: list[PropertyWorld]
    policies: dict[int, dict]
    tiers: list[dict]
    rules: list[dict]
    perks: list[dict]
    items: list[dict]
    campaigns: dict[str, int] = field(default_factory=dict)


def _existing(conn: Connection, table: str, *key: str) -> dict:
    cols = ", ".join(f'"{k}"' for k in key)
    rows = conn.exec_driver_sql(f'SELECT {cols}, "id" FROM "{table}"').all()
    return {tuple(r[:-1]) if len(key) > 1 else r[0]: r[-1] for r in rows}


def next_id(conn: Connection, table: str, below: int | None = None) -> int:
    """One more than the largest id (below `below`: within a partition's range, see core/partition.py)."""
    where = f' WHERE "id" < {int(below)}' if below is not None else ""
    return int(conn.exec_driver_sql(f'SELECT coalesce(max("id"), 0) FROM "{table}"{where}').scalar()) + 1


def _insert(conn: Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = Columns(table)
    for k in rows[0]:
        cols[k] = object_column(r[k] for r in rows)
    loader.load(conn, metadata.tables[table], cols)


def check_owner(conn: Connection, profile: Profile) -> None:
    """The catalogue is never wiped, so another group's profile would seed into a foreign catalogue: refuse."""
    orgs = _existing(conn, "organizations", "slug")
    if orgs and profile.organization["slug"] not in orgs:
        raise DatabaseStateError(
            f"this database holds the catalogue of organization {', '.join(sorted(orgs))}; profile "
            f"{profile.name} describes {profile.organization['slug']!r}: seed it into a fresh database")


def check_room_counts(conn: Connection, profile: Profile, rooms_per_property: int | None = None) -> None:
    """Rooms are made only with their room type, and the catalogue is never wiped: a room type that exists keeps
    its rooms whatever this run asks. A run asking for other counts (--rooms-per-property, or a profile edited
    since) would silently get the database's: refuse, saying which wins."""
    have = {(slug, code): n for slug, code, n in conn.execute(sa.text(
        "SELECT p.slug, t.code, t.base_rooms FROM room_types t JOIN properties p ON p.id = t.property_id")).all()}
    for ps in profile.properties:
        for rt in ps.room_types:
            n = have.get((ps.slug, rt.code))
            if n is None or n == rt.count:
                continue
            total = sum(count for (slug, _), count in have.items() if slug == ps.slug)
            asked = f"--rooms-per-property {rooms_per_property}" if rooms_per_property else f"profile {profile.name}"
            raise DatabaseStateError(
                f"property {ps.slug} already has {total:,} rooms in the database's catalogue ({rt.code}: {n}), and "
                f"{asked} asks for {ps.rooms:,} ({rt.code}: {rt.count}); room counts apply only when the catalogue "
                f"is created, and it is never wiped, so the database's win: use a fresh database for other counts")


def ensure_catalogue(conn: Connection, profile: Profile) -> dict[str, int]:
    """Insert what the profile describes and the database lacks (by business key). Returns rows added."""
    added: dict[str, int] = {}

    def add(table: str, rows: list[dict]) -> None:
        _insert(conn, table, rows)
        if rows:
            added[table] = added.get(table, 0) + len(rows)

    check_owner(conn, profile)
    have_roles = {r[0] for r in conn.exec_driver_sql('SELECT "key" FROM roles').all()}
    add("roles", [{"key": k, "name": k.replace("_", " ").title(), "permissions": ROLE_PERMISSIONS[k]}
                  for k in ROLE_KEYS if k not in have_roles])

    orgs = _existing(conn, "organizations", "slug")
    org = profile.organization
    if org["slug"] not in orgs:
        oid = next_id(conn, "organizations")
        add("organizations", [{"id": oid, "name": org["name"], "slug": org["slug"], "settings": {"profile": profile.name}}])
        orgs[org["slug"]] = oid
    org_id = orgs[org["slug"]]
    brands = _existing(conn, "brands", "slug")
    if profile.brand["slug"] not in brands:
        bid = next_id(conn, "brands")
        add("brands", [{"id": bid, "org_id": org_id, "name": profile.brand["name"], "slug": profile.brand["slug"],
                        "status": "ACTIVE"}])
        brands[profile.brand["slug"]] = bid
    brand_id = brands[profile.brand["slug"]]

    policies = _existing(conn, "cancellation_policies", "code")
    rows, nid = [], next_id(conn, "cancellation_policies")
    for pol in profile.policies:
        if pol.code not in policies:
            rows.append({"id": nid, "property_id": None, "code": pol.code, "name": pol.name,
                         "free_until_hours": pol.free_until_hours, "penalty_pct": pol.penalty_pct,
                         "penalty_basis": pol.penalty_basis, "rules": {"source": "profile"}})
            policies[pol.code] = nid
            nid += 1
    add("cancellation_policies", rows)

    props = _existing(conn, "properties", "slug")
    rows, nid = [], next_id(conn, "properties")
    phones = phone_numbers(profile.phone_scheme, "property", np.arange(len(profile.properties)))
    for i, ps in enumerate(profile.properties):
        if ps.slug in props:
            continue
        rows.append({"id": nid, "org_id": org_id, "brand_id": brand_id, "name": ps.name, "slug": ps.slug,
                     "code": ps.code, "kind": ps.kind, "city": ps.city, "state": ps.state, "country": ps.country,
                     "phone": phones[i], "email": f"frontdesk.{ps.slug}@{profile.staff_email_domain}",
                     "timezone": ps.timezone, "currency": ps.currency, "check_in_time": ps.check_in_time,
                     "check_out_time": ps.check_out_time, "overbooking_enabled": ps.overbooking_enabled,
                     "default_buffer_pct": ps.buffer_pct, "status": "ACTIVE"})
        props[ps.slug] = nid
        nid += 1
    add("properties", rows)

    rts = _existing(conn, "room_types", "property_id", "code")
    rows, nid = [], next_id(conn, "room_types")
    for ps in profile.properties:
        pid = props[ps.slug]
        for rank, rt in enumerate(ps.room_types, start=1):
            if (pid, rt.code) in rts:
                continue
            rows.append({"id": nid, "property_id": pid, "code": rt.code, "name": rt.name, "rank": rank,
                         "base_rooms": rt.count, "max_occupancy": rt.max_occupancy, "bed_config": rt.bed,
                         "is_active": True})
            rts[(pid, rt.code)] = nid
            nid += 1
    new_types = {r["id"] for r in rows}
    add("room_types", rows)

    # Rooms only for room types created now: an existing type keeps the rooms it has.
    rows, nid = [], next_id(conn, "rooms")
    for ps in profile.properties:
        pid = props[ps.slug]
        seq = int(conn.execute(sa.text("SELECT count(*) FROM rooms WHERE property_id = :p"), {"p": pid}).scalar())
        for rt in ps.room_types:
            tid = rts[(pid, rt.code)]
            if tid not in new_types:
                continue
            for _ in range(rt.count):
                floor = 1 + seq // 20
                rows.append({"id": nid, "property_id": pid, "room_type_id": tid,
                             "room_number": f"{floor}{seq % 20 + 1:02d}", "floor": floor, "status": "ACTIVE"})
                nid += 1
                seq += 1
    add("rooms", rows)

    plans = _existing(conn, "rate_plans", "room_type_id", "code")
    rows, nid = [], next_id(conn, "rate_plans")
    for ps in profile.properties:
        pid = props[ps.slug]
        for rt in ps.room_types:
            tid = rts[(pid, rt.code)]
            for rp in profile.rate_plans:
                if (tid, rp.code) in plans:
                    continue
                price = int(round(rt.base_price * (100 - rp.discount_pct) / 100 / 100)) * 100  # whole units
                rows.append({"id": nid, "property_id": pid, "room_type_id": tid, "code": rp.code, "name": rp.name,
                             "refundable": rp.refundable, "base_price": price, "currency": ps.currency,
                             "discount_pct": rp.discount_pct, "weekend_uplift_pct": rp.weekend_uplift_pct,
                             "min_los": rp.min_los, "max_los": rp.max_los,
                             "cancellation_policy_id": policies[rp.policy]})
                plans[(tid, rp.code)] = nid
                nid += 1
    add("rate_plans", rows)

    have_tiers = {r[0] for r in conn.exec_driver_sql("SELECT tier FROM tier_configs").all()}
    add("tier_configs", [{"tier": t.tier, "rank": i + 1, "min_points": t.min_points, "min_stays": t.min_stays,
                          "min_nights": t.min_nights, "min_spend": t.min_spend, "qualification_period_months": 12,
                          "base_points_per_100": t.base_points_per_100, "benefits": list(t.benefits)}
                         for i, t in enumerate(profile.tiers) if t.tier not in have_tiers])
    for table, items, build in (
        ("points_rules", profile.points_rules,
         lambda r, i: {"id": i, "code": r["code"], "name": r["name"], "multiplier": str(r["multiplier"]),
                       "condition": {"when": r["when"]}, "is_active": True}),
        ("perks", profile.perks,
         lambda r, i: {"id": i, "code": r["code"], "name": r["name"], "type": r["type"], "min_tier": r["min_tier"],
                       "per_stay_cap": int(r.get("per_stay_cap", 1)), "per_member_cap": int(r.get("per_member_cap", 99)),
                       "value": {"amount": r.get("value")}}),
        ("redemption_items", profile.redemption_items,
         lambda r, i: {"id": i, "code": r["code"], "name": r["name"], "type": r["type"],
                       "points_cost": int(r["points_cost"]), "min_tier": r.get("min_tier", "MEMBER"),
                       "valid_days": int(r.get("valid_days", 180)), "value": {}}),
        ("campaigns", ({"code": "WELCOME", "name": "Enrollment bonus"}, {"code": "SERVICE_RECOVERY", "name": "Goodwill"}),
         lambda r, i: {"id": i, "code": r["code"], "name": r["name"], "bonus_points": 0}),
    ):
        have = _existing(conn, table, "code")
        rows, nid = [], next_id(conn, table)
        for r in items:
            if r["code"] not in have:
                rows.append(build(r, nid))
                nid += 1
        add(table, rows)
    return added


def _json(value):
    """JSON read through a text query comes back as a string on SQLite and decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def read_world(conn: Connection, profile: Profile) -> World:
    """Read the catalogue the profile names (by slug/code) into arrays for the generators."""
    q = lambda sql, *a: conn.execute(sa.text(sql), *a).mappings().all()  # noqa: E731
    org_id = conn.execute(sa.text("SELECT id FROM organizations WHERE slug = :s"), {"s": profile.organization["slug"]}).scalar_one()
    brand_id = conn.execute(sa.text("SELECT id FROM brands WHERE slug = :s"), {"s": profile.brand["slug"]}).scalar_one()
    policies = {r["id"]: dict(r) for r in q("SELECT * FROM cancellation_policies")}
    plans_by_type: dict[int, dict[str, dict]] = {}
    for r in q("SELECT id, room_type_id, code, base_price, weekend_uplift_pct, cancellation_policy_id FROM rate_plans"):
        plans_by_type.setdefault(r["room_type_id"], {})[r["code"]] = dict(r)
    props = []
    for ps in profile.properties:
        p = q("SELECT * FROM properties WHERE slug = :s", {"s": ps.slug})[0]
        types = q("SELECT * FROM room_types WHERE property_id = :p AND is_active ORDER BY rank, id", {"p": p["id"]})
        rooms = q("SELECT id, room_type_id FROM rooms WHERE property_id = :p AND status = 'ACTIVE' ORDER BY id", {"p": p["id"]})
        type_ids = np.array([t["id"] for t in types], dtype=np.int64)
        index_of = {int(t): i for i, t in enumerate(type_ids)}
        room_type_idx = np.array([index_of.get(r["room_type_id"], -1) for r in rooms], dtype=np.int64)
        keep = room_type_idx >= 0
        codes = sorted({c for t in type_ids for c in plans_by_type.get(int(t), {})})
        plan_ids = {c: np.array([plans_by_type.get(int(t), {}).get(c, {}).get("id", 0) for t in type_ids], dtype=np.int64) for c in codes}
        plan_price = {c: np.array([int(round(float(plans_by_type.get(int(t), {}).get(c, {}).get("base_price", 0)) * 100))
                                   for t in type_ids], dtype=np.int64) for c in codes}
        first = {c: next(plans_by_type[int(t)][c] for t in type_ids if c in plans_by_type.get(int(t), {})) for c in codes}
        hh, mm = map(int, p["check_in_time"].split(":"))
        oh, om = map(int, p["check_out_time"].split(":"))
        props.append(PropertyWorld(
            id=p["id"], slug=p["slug"], code=p["code"], name=p["name"], kind=p["kind"], timezone=p["timezone"],
            currency=p["currency"], phone=p["phone"], email=p["email"], check_in_minutes=hh * 60 + mm,
            check_out_minutes=oh * 60 + om, overbooking_enabled=bool(p["overbooking_enabled"]),
            buffer_pct=int(p["default_buffer_pct"]), occupancy_target=ps.occupancy_target, staff_quota=dict(ps.staff),
            room_type_ids=type_ids, room_type_codes=[t["code"] for t in types],
            room_type_rank=np.array([t["rank"] for t in types], dtype=np.int64),
            room_type_count=np.bincount(room_type_idx[keep], minlength=len(type_ids)).astype(np.int64),
            room_type_max_occ=np.array([t["max_occupancy"] for t in types], dtype=np.int64),
            room_ids=np.array([r["id"] for r in rooms], dtype=np.int64)[keep], room_type_of_room=room_type_idx[keep],
            plan_ids=plan_ids, plan_price=plan_price,
            plan_uplift={c: int(first[c]["weekend_uplift_pct"]) for c in codes},
            plan_policy={c: first[c]["cancellation_policy_id"] for c in codes}))
    tiers = [dict(r) for r in q("SELECT * FROM tier_configs ORDER BY rank")]
    for t in tiers:
        t["min_spend"] = int(round(float(t["min_spend"]) * 100))
    rules = [dict(r) for r in q("SELECT * FROM points_rules WHERE is_active ORDER BY id")]
    for r in rules:
        r["condition"] = _json(r["condition"])
    for r in rules:
        r["multiplier"] = float(r["multiplier"])
        r["when"] = (r["condition"] or {}).get("when")
    perks = [dict(r) for r in q("SELECT * FROM perks ORDER BY id")]
    for r in perks:
        r["value"] = _json(r["value"])
    items = [dict(r) for r in q("SELECT * FROM redemption_items ORDER BY points_cost DESC, id")]
    campaigns = {r["code"]: r["id"] for r in q("SELECT id, code FROM campaigns")}
    return World(org_id, brand_id, props, policies, tiers, rules, perks, items, campaigns)
