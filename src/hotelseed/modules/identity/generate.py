"""Users and roles: the superadmin, admins, property staff (by quota), loyalty members' and guests' users.

Pure functions of (plan, world, existing staff): no I/O. Names come from Faker's locale pools, sampled by
index (never a Faker call per row), so person *i* is the same person whatever else is generated.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from argon2.low_level import Type, hash_secret

from hotelseed.core.columns import Columns
from hotelseed.core.fake import ascii_slug, phone_numbers
from hotelseed.core.ids import uuid_for
from hotelseed.core.rng import Stream
from hotelseed.modules.identity.models import STAFF_ROLES
from hotelseed.plan import DAY, Plan

DEV_PASSWORD = "hotelseed-dev"
# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
ARGON2 = dict(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, type=Type.ID)


@functools.lru_cache(maxsize=8)
def name_pool(locale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(male first names, female first names, last names) of a Faker locale, built once."""
    from faker import Faker

    person = Faker(locale).provider("faker.providers.person")
    male = list(getattr(person, "first_names_male", person.first_names))
    female = list(getattr(person, "first_names_female", person.first_names))
    last = list(person.last_names)
    return np.array(male, dtype=object), np.array(female, dtype=object), np.array(last, dtype=object)


def person_names(stream: Stream, index: np.ndarray, locale: str) -> np.ndarray:
    male, female, last = name_pool(locale)
    idx = np.asarray(index, dtype=np.int64)
    is_female = stream.uniform(idx, 0) < 0.5
    first = np.where(is_female, female[stream.integers(idx, len(female), 1) % len(female)],
                     male[stream.integers(idx, len(male), 2) % len(male)])
    surname = last[stream.integers(idx, len(last), 3)]
    return np.array([f"{f} {s}" for f, s in zip(first, surname)], dtype=object)


def password_hash(seed: int, user_id: uuid.UUID, password: str = DEV_PASSWORD) -> str:
    """argon2id with a salt derived from (seed, user): unique per user, reproducible per seed."""
    salt = hashlib.blake2b(f"{seed}:{user_id}".encode(), digest_size=16).digest()
    return hash_secret(password.encode(), salt, **ARGON2).decode()


def password_hashes(seed: int, user_ids: list[uuid.UUID]) -> list[str]:
    """password_hash of each user, one thread per core: argon2 is made to be slow (about 17 ms a hash here, 3.5 s
    of a large seed's 240 staff in one thread), and argon2-cffi's C call releases the GIL while it hashes
    (200 hashes: 4.0 s in one thread, 2.0 s in two on this 2-core machine)."""
    if not user_ids:
        return []
    with ThreadPoolExecutor(max_workers=min(len(user_ids), os.cpu_count() or 1)) as pool:
        return list(pool.map(functools.partial(password_hash, seed), user_ids))


@dataclass
class StaffMember:
    user_id: uuid.UUID
    role: str
    property_id: int | None
    email: str
    name: str


@dataclass
class StaffDirectory:
    """Who holds which staff role where: the kept staff plus those generated now."""

    members: list[StaffMember] = field(default_factory=list)

    def at(self, property_id: int, *roles: str) -> list[StaffMember]:
        """By e-mail: the same order whether the staff was kept, generated now, or loaded by another shard."""
        return sorted((s for s in self.members if s.property_id == property_id and s.role in roles),
                      key=lambda s: (s.email, s.role))

    def ids(self, property_id: int, *roles: str) -> np.ndarray:
        cache = self.__dict__.setdefault("_ids", {})
        key = (property_id, roles, len(self.members))
        if key not in cache:
            cache[key] = np.array([s.user_id for s in self.at(property_id, *roles)], dtype=object)
        return cache[key]


@dataclass
class Users:
    users: Columns
    roles: Columns


def _users_columns(ids, emails, phones, names, created_at, password_hashes, verified_at, run_id) -> Columns:
    n = len(ids)
    c = Columns("users")
    c["id"] = np.array(ids, dtype=object)
    c["email"] = np.array(emails, dtype=object)
    c["phone"] = np.array(phones, dtype=object)
    c["name"] = np.array(names, dtype=object)
    c["password_hash"] = np.array(password_hashes, dtype=object)
    c["is_active"] = np.ones(n, dtype=bool)
    c["email_verified_at"] = np.array(verified_at, dtype="datetime64[s]")
    c["created_at"] = np.array(created_at, dtype="datetime64[s]")
    c["seed_run_id"] = np.full(n, run_id, dtype=np.int64)
    return c


def generate_staff(plan: Plan, world, existing: list[StaffMember], has_superadmin: bool, run_id: int,
                   next_role_id: int) -> tuple[Users, StaffDirectory]:
    """Superadmin (if missing), admins and per-property staff up to each quota, counting those kept."""
    prof = plan.profile
    stream = plan.root.child("identity", "staff")
    domain = prof.staff_email_domain
    want: list[tuple[str, str, int | None, str]] = []  # (key, role, property_id, scope)
    if not has_superadmin:
        want.append(("superadmin", "SUPERADMIN", None, "ORG"))
    have_admins = sum(1 for s in existing if s.role == "ADMIN")
    k = 0
    taken = {s.email for s in existing}
    while have_admins < prof.admins:
        key = f"admin-{k}"
        if f"{key}@{domain}" not in taken:
            # The first admin runs the organization; the next ones a brand (brand-scoped ADMIN).
            want.append((key, "ADMIN", None, "ORG" if k == 0 else "BRAND"))
            have_admins += 1
        k += 1
    for pw in world.properties:
        for role in STAFF_ROLES:
            have = sum(1 for s in existing if s.property_id == pw.id and s.role == role)
            k = 0
            while have < pw.staff_quota.get(role, 0):
                key = f"{pw.slug}-{role.lower().replace('staff_', '')}-{k}"
                if f"{key}@{domain}" not in taken:
                    want.append((key, role, pw.id, "PROPERTY"))
                    have += 1
                k += 1
    keys = [w[0] for w in want]
    # A stable per-key index: the staff member's number within the scheme and the stream.
    key_index = np.array([int(hashlib.blake2b(k.encode(), digest_size=4).hexdigest(), 16) % 10**7 for k in keys],
                         dtype=np.int64)
    ids = [uuid_for(plan.seed, "user", f"staff:{k}") for k in keys]
    names = person_names(stream, key_index, prof.name_locale) if keys else np.array([], dtype=object)
    names = np.array(["Platform Superadmin" if k == "superadmin" else n for k, n in zip(keys, names)], dtype=object)
    emails = [f"{k}@{domain}" for k in keys]
    phones = phone_numbers(prof.phone_scheme, "staff", key_index) if keys else []
    hired = (plan.history_start_day - 30 - (key_index % 700)) * DAY + 9 * 3600
    users = _users_columns(ids, emails, phones, names, hired, password_hashes(plan.seed, ids),
                           hired + 3600, run_id)
    roles = Columns("user_roles")
    n = len(want)
    roles["id"] = np.arange(next_role_id, next_role_id + n, dtype=np.int64)
    roles["user_id"] = np.array(ids, dtype=object)
    roles["role_key"] = np.array([w[1] for w in want], dtype=object)
    roles["scope_type"] = np.array([w[3] for w in want], dtype=object)
    roles["org_id"] = np.array([world.org_id if w[3] == "ORG" else None for w in want], dtype=object)
    roles["brand_id"] = np.array([world.brand_id if w[3] == "BRAND" else None for w in want], dtype=object)
    roles["property_id"] = np.array([w[2] for w in want], dtype=object)
    roles["created_at"] = np.array(hired, dtype="datetime64[s]")
    directory = StaffDirectory(list(existing) + [StaffMember(u, w[1], w[2], e, nm)
                                                 for u, w, e, nm in zip(ids, want, emails, names)])
    return Users(users, roles), directory


@dataclass
class MemberPeople:
    """Loyalty members as people: index i → the same user, e-mail, phone and enrolment for any --members."""

    index: np.ndarray
    user_id: np.ndarray
    name: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    enrolled_at: np.ndarray  # epoch seconds


def enrolment_times(plan: Plan, idx: np.ndarray) -> np.ndarray:
    """Enrolment spread over the history window (member i enrols at the same moment for any --members)."""
    stream = plan.root.child("identity", "members")
    start = plan.history_start_day * DAY
    span = max(plan.as_of - 2 * DAY - start, DAY)
    return start + (stream.uniform(idx, 11) * span).astype(np.int64)


def member_people(plan: Plan) -> MemberPeople:
    prof = plan.profile
    stream = plan.root.child("identity", "members")
    idx = np.arange(plan.members, dtype=np.int64)
    names = person_names(stream, idx, prof.name_locale)
    domains = np.array(prof.guest_email_domains, dtype=object)
    dom = domains[stream.integers(idx, len(domains), 10)]
    emails = np.array([f"{ascii_slug(n)}.m{i + 1}@{d}" for n, i, d in zip(names, idx, dom)], dtype=object)
    enrolled = enrolment_times(plan, idx)
    return MemberPeople(idx, np.array([uuid_for(plan.seed, "user", f"member:{i}") for i in idx], dtype=object),
                        names, emails, phone_numbers(prof.phone_scheme, "member", idx) if len(idx) else
                        np.array([], dtype=object), enrolled)


def member_users(plan: Plan, world, people: MemberPeople, run_id: int, next_role_id: int) -> Users:
    n = len(people.index)
    users = _users_columns(people.user_id, people.email, people.phone, people.name, people.enrolled_at,
                           [None] * n, people.enrolled_at + 600, run_id)
    roles = Columns("user_roles")
    roles["id"] = np.arange(next_role_id, next_role_id + n, dtype=np.int64)
    roles["user_id"] = people.user_id
    roles["role_key"] = np.full(n, "MEMBER", dtype=object)
    roles["scope_type"] = np.full(n, "ORG", dtype=object)
    roles["org_id"] = np.full(n, world.org_id, dtype=object)
    roles["brand_id"] = np.full(n, None, dtype=object)
    roles["property_id"] = np.full(n, None, dtype=object)
    roles["created_at"] = people.enrolled_at.astype("datetime64[s]")
    return Users(users, roles)


def guest_users(plan: Plan, world, user_ids, emails, phones, names, created_at, run_id: int,
                next_role_id: int) -> Users:
    """Users for non-member guests who registered to book on the website (role GUEST)."""
    n = len(user_ids)
    users = _users_columns(user_ids, emails, phones, names, created_at, [None] * n,
                           np.full(n, np.datetime64("NaT")), run_id)
    roles = Columns("user_roles")
    roles["id"] = np.arange(next_role_id, next_role_id + n, dtype=np.int64)
    roles["user_id"] = np.array(user_ids, dtype=object)
    roles["role_key"] = np.full(n, "GUEST", dtype=object)
    roles["scope_type"] = np.full(n, "ORG", dtype=object)
    roles["org_id"] = np.full(n, world.org_id, dtype=object)
    roles["brand_id"] = np.full(n, None, dtype=object)
    roles["property_id"] = np.full(n, None, dtype=object)
    roles["created_at"] = np.array(created_at, dtype="datetime64[s]")
    return Users(users, roles)
