"""The dataset as partitions: what is generated where (core/partition.py says why partitions exist).

Partition 0 is the group's: staff, members and their users and roles, loyalty accounts, the ledger and the
rest of the programme, and the group's own mail to members (contacts, newsletters, their suppressions).
Property k's partition (numbered by the property's id) holds its bookings and everything that hangs off them
(stays, guests, payments, room assignments, audit trail, holds, locks, inventory), the users of its
registered guests, and its communication hub.

Before any partition is generated, `prepare` computes what they all share, in every process and shard alike:
the members, their trips and those trips' outcomes (members' bookings are placed first at a property, so
their fate depends on nothing else: see bookings.generate.MEMBER_FIRST), the loyalty replay over those
outcomes (which nights were paid with points), and the member addresses the group's mail suppressed. It is
small: it grows with members, not with bookings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotelseed.core import partition
from hotelseed.core.columns import Columns
from hotelseed.models import metadata
from hotelseed.modules.bookings.demand import Requests, member_trips
from hotelseed.modules.bookings.generate import (BookingFacts, assemble_property, simulate_members,
                                                 simulate_property)
from hotelseed.modules.comms.generate import MemberChannels, member_comms, property_comms
from hotelseed.modules.identity.generate import (MemberPeople, StaffDirectory, Users, guest_users, member_people,
                                                 member_users)
from hotelseed.modules.loyalty.generate import LoyaltyOut, generate_loyalty
from hotelseed.plan import Plan

GROUP = 0  # partition key of the group's partition; properties use their own id


@dataclass
class GroupContext:
    """What every partition needs to know about the whole group (see the module docstring)."""

    plan: Plan
    world: object
    staff: StaffDirectory
    run_id: int
    people: MemberPeople
    member_requests: list[Requests | None]  # by property index
    member_facts: BookingFacts
    loyalty: LoyaltyOut
    award_ids: np.ndarray  # sorted ids of bookings whose first night was paid with points
    channels: MemberChannels
    member_mail: dict[str, Columns]

    def release(self) -> None:
        """Let go of what only the group's partition needed (the replay's tables, the group's mail, members'
        booking facts); the properties need the members, their trips, award nights and channels."""
        self.loyalty = None  # type: ignore[assignment]
        self.member_mail = {}
        self.member_facts = None  # type: ignore[assignment]


def prepare(plan: Plan, world, staff: StaffDirectory, run_id: int) -> GroupContext:
    people = member_people(plan)
    n_props = len(world.properties)
    trips = member_trips(plan, world, people) if len(people.index) else [None] * n_props
    facts = []
    for pi in range(n_props):
        res = simulate_members(plan, world, pi, trips[pi])
        if res is not None:
            facts.append(assemble_property(plan, world, res, people, staff, run_id, facts_only=True).facts)
    member_facts = BookingFacts.concat(facts)
    loyalty = generate_loyalty(plan, world, people, member_facts, run_id)
    award_ids = np.sort(member_facts.id[loyalty.award_night])
    mail, channels = member_comms(plan, world, people, loyalty.tables["loyalty_accounts"]["marketing_opt_in"])
    return GroupContext(plan, world, staff, run_id, people, trips, member_facts, loyalty, award_ids, channels, mail)


def _add(tables: dict[str, Columns], more) -> None:
    for cols in more:
        if cols.table in tables:
            tables[cols.table] = Columns.concat(cols.table, [tables[cols.table], cols])
        else:
            tables[cols.table] = cols


def group_partition(ctx: GroupContext, staff_users: Users, first_member_role_id: int) -> dict[str, Columns]:
    """Partition 0: staff and members as users with their roles, the loyalty programme, the group's mail."""
    members = member_users(ctx.plan, ctx.world, ctx.people, ctx.run_id, first_member_role_id)
    tables: dict[str, Columns] = {}
    _add(tables, [staff_users.users, members.users, staff_users.roles, members.roles])
    _add(tables, ctx.loyalty.tables.values())
    _add(tables, ctx.member_mail.values())
    return tables


def property_partition(ctx: GroupContext, pi: int) -> dict[str, Columns]:
    """Property `pi`'s partition: its simulated bookings and all that hangs off them, its guests' users and its hub."""
    plan, world = ctx.plan, ctx.world
    pw = world.properties[pi]
    res = simulate_property(plan, world, pi, ctx.member_requests[pi])
    out = assemble_property(plan, world, res, ctx.people, ctx.staff, ctx.run_id)
    out.add_payments(np.isin(out.facts.id, ctx.award_ids))
    g = out.guest_user
    guests = guest_users(plan, world, g.get("user_id", []), g.get("email", []), g.get("phone", []), g.get("name", []),
                         np.asarray(g.get("created_at", []), dtype=np.int64), ctx.run_id, partition.base(pw.id) + 1)
    comms = property_comms(plan, world, pi, ctx.people, ctx.staff, out.facts, ctx.channels, ctx.run_id)
    tables: dict[str, Columns] = {}
    _add(tables, [guests.users, guests.roles])
    _add(tables, out.tables.values())
    _add(tables, comms.tables.values())
    return tables


# What each kind of partition writes (a test holds the generators to it). Tables in both: users and roles,
# contacts, e-mails and their events, suppressions.
GROUP_TABLES = frozenset({
    "users", "user_roles", "loyalty_accounts", "points_ledger", "tier_history", "redemption_transactions",
    "perk_redemptions", "referrals", "tier_transfers", "contacts", "emails", "email_events", "email_attachments",
    "suppressions"})
PROPERTY_TABLES = frozenset({
    "users", "user_roles", "bookings", "stays", "booking_guests", "payments", "room_assignments",
    "booking_audit_logs", "hold_logs", "inventory_locks", "inventories", "threads", "contacts", "emails",
    "email_events", "email_attachments", "message_logs", "call_logs", "conversation_notes", "suppressions"})


def partition_keys(world) -> list[int]:
    """Every partition's key, in generation order: the group's first, then the properties'."""
    return [GROUP] + [pw.id for pw in world.properties]


def late_group_tables() -> frozenset[str]:
    """The group's tables that refer, directly or through another such table, to a table only properties write
    (the ledger refers to bookings): loaded after the properties, so that foreign keys checked row by row as
    the data arrives always find their parent."""
    property_only = PROPERTY_TABLES - GROUP_TABLES
    late: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in sorted(GROUP_TABLES - late):
            targets = {fk.column.table.name for fk in metadata.tables[name].foreign_keys}
            if targets & (property_only | late):
                late.add(name)
                changed = True
    return frozenset(late)


def written_tables() -> list[str]:
    """Tables any partition writes, in foreign-key order."""
    return [t.name for t in metadata.sorted_tables if t.name in GROUP_TABLES | PROPERTY_TABLES]
