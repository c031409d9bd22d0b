"""The communication hub: threads anchored to bookings and members, their e-mails, WhatsApp/SMS messages,
calls and notes, assigned to staff by rule, with suppressions that later messages honour.

Thread mix 60/30/10 (booking / general inquiry / support, master-seed-strategy.md); timing from
platform.md §6.7: guests write first, staff answer after a channel-specific lognormal delay (night-time
messages wait for the morning shift), threads resolve or wait for the guest; anything after as_of has not
happened yet, so recent threads are open. Derived thread fields (first response, last message, SLA breach)
are computed from the items that exist, after suppressions removed the sends that must not happen.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from hotelseed.core import partition
from hotelseed.core.columns import Columns, object_column, time_column
from hotelseed.core.ids import scrambled_codes
from hotelseed.core.rng import choose
from hotelseed.modules.bookings.generate import NEVER
from hotelseed.plan import DAY, Plan, make_clock

TOPICS = {
    "BOOKING": ["confirmation_request", "check_in_inquiry", "check_out_inquiry", "cancellation_request",
                "special_request", "upgrade_request"],
    "GENERAL": ["property_info", "amenities", "pricing"],
    "SUPPORT": ["complaint", "feedback", "technical_issue"],
}
SUBJECTS = {
    "confirmation_request": "Booking confirmation {code}", "check_in_inquiry": "Check-in time for {code}",
    "check_out_inquiry": "Check-out and invoice for {code}", "cancellation_request": "Cancel booking {code}",
    "special_request": "Late check-out / early check-in for {code}", "upgrade_request": "Room upgrade for {code}",
    "property_info": "Directions and parking at {prop}", "amenities": "Amenities at {prop}",
    "pricing": "Rates for next month at {prop}", "complaint": "Complaint about my stay {code}",
    "feedback": "Feedback on my stay {code}", "technical_issue": "Cannot log in to the member app",
}
INBOUND_TEXT = {
    "confirmation_request": "Hi, could you confirm my booking {code}? I have not received the e-mail.",
    "check_in_inquiry": "Hello, what time can I check in on arrival day?",
    "check_out_inquiry": "Can I get the invoice for my stay before I leave?",
    "cancellation_request": "Please cancel my booking {code}, my plans changed.",
    "special_request": "Would a late check-out at 2 pm be possible?",
    "upgrade_request": "Is an upgrade to a bigger room possible for my stay?",
    "property_info": "Is there parking near {prop}?", "amenities": "Do you have lockers and a laundry?",
    "pricing": "What would two nights next month cost?", "complaint": "The AC in my room did not work at night.",
    "feedback": "Lovely stay, the staff were very helpful.", "technical_issue": "The app says my password is wrong.",
}
OUTBOUND_TEXT = "Thank you for writing to {prop}. {answer}"
ANSWERS = {
    "confirmation_request": "Your booking {code} is confirmed; a copy of the confirmation is attached.",
    "check_in_inquiry": "Check-in starts at {cin}; we will keep your room ready.",
    "check_out_inquiry": "Your invoice will be ready at the desk at check-out.",
    "cancellation_request": "We have noted your request and will confirm the cancellation.",
    "special_request": "We have noted your request and will do our best.",
    "upgrade_request": "We will check upgrade availability on arrival.",
    "property_info": "Parking is available at the back of the building.",
    "amenities": "Lockers and a self-service laundry are on the ground floor.",
    "pricing": "Our best available rates are on our website; members save a further 3%.",
    "complaint": "We are very sorry; the duty manager will call you.", "feedback": "Thank you, we shared it with the team.",
    "technical_issue": "We have reset your member login; please try again.",
}
WHATSAPP_ERRORS = ["131026 Message undeliverable: receiver incapable of receiving this message",
                   "131047 Re-engagement message: more than 24 hours since the customer last replied"]
ITEMS_PMF = {2: 0.3, 3: 0.3, 4: 0.2, 5: 0.12, 6: 0.08}  # 2-6, median 3 (platform.md §6.7)


@dataclass
class Item:
    thread: int
    direction: str
    at: int
    kind: str  # EMAIL / WHATSAPP / SMS / CALL / NOTE
    extra: dict = field(default_factory=dict)


@dataclass
class CommsOut:
    tables: dict[str, Columns]


@dataclass
class MemberChannels:
    """What every partition must honour about members' addresses, decided once in the group's partition:
    suppressions (a member's address bounces, complains or unsubscribes on the group's mail) and the contact
    row of each member's phone. Property partitions never suppress a member's address themselves, so two
    partitions can never disagree about one."""

    email_suppressed: dict[str, tuple[int, str]]  # address → (suppressed at, reason)
    emails: frozenset
    phones: frozenset
    contact_of: dict[str, int]  # member's phone → contact id


def _sigma(median: float, p90: float) -> float:
    """The log-scale spread of a lognormal with this median and 90th percentile (z of p90 = 1.2816)."""
    return math.log(max(p90, median * 1.01) / median) / 1.2816


def _lognormal_at(median: float, sigma: float, z: float) -> float:
    """The lognormal value with this median and log-scale spread at standard normal draw z."""
    return median * math.exp(sigma * z)


def _lognormal(rng, median: float, p90: float) -> float:
    return _lognormal_at(median, _sigma(median, p90), rng.standard_normal())


@functools.lru_cache(maxsize=256)
def _cdf(items: tuple) -> tuple[list, list[float]]:
    keys = [k for k, _ in items]
    w = np.asarray([v for _, v in items], dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return keys, cdf.tolist()


def _choice(rng, mix: dict) -> str:
    """One key of a {key: weight} mix by inverse CDF (the same as core.rng.sample_categorical, one draw)."""
    keys, cdf = _cdf(tuple(mix.items()))
    return keys[min(bisect.bisect_right(cdf, rng.random()), len(keys) - 1)]


def _ts(values) -> np.ndarray:
    return time_column(values, never=NEVER)


def property_comms(plan: Plan, world, p_index: int, people, staff, facts, members: MemberChannels,
                   run_id: int) -> CommsOut:
    """The hub of one property: threads about its bookings, members' inquiries and support cases addressed to it,
    and everything in them; ids in the property's partition."""
    cfg = plan.profile.comms
    props = world.properties
    here = props[p_index]
    rng = plan.root.child("comms", "threads", here.slug).generator()
    as_of = plan.as_of
    clocks = {p_index: make_clock(here.timezone, plan.history_start_day - 600, plan.inventory_end_day + 2)}
    n_b = len(facts.id)

    # ---- threads: (category, topic, anchor time, property index, booking row or -1, member index or -1)
    threads = []
    share = float(cfg.get("booking_thread_share", 0.1))
    pick = np.flatnonzero(rng.random(n_b) < share)
    # The property's check-in moment of each picked booking (every booking here is this property's).
    ci_moments = clocks[p_index].utc(facts.check_in[pick], np.full(len(pick), here.check_in_minutes * 60)).tolist()
    for b, ci_moment in zip(pick.tolist(), ci_moments):
        st = facts.status[b]
        pi = int(facts.property_index[b])
        if st == "CANCELLED":
            topic = "cancellation_request" if rng.random() < 0.7 else "confirmation_request"
        elif st in ("CHECKED_OUT", "COMPLETED"):
            topic = ["check_out_inquiry", "special_request", "upgrade_request", "check_in_inquiry", "confirmation_request"][int(rng.random() * 5)]
        elif st == "CHECKED_IN":
            topic = ["special_request", "check_out_inquiry"][int(rng.random() * 2)]
        elif st in ("CONFIRMED", "PENDING", "HOLD"):
            topic = ["confirmation_request", "check_in_inquiry", "special_request", "upgrade_request", "cancellation_request"][int(rng.random() * 5)]
        elif st == "NO_SHOW":
            topic = "check_in_inquiry"
        else:
            topic = "confirmation_request"
        created = int(facts.created_at[b])
        if topic == "confirmation_request":
            at = created + int((2 + rng.random() * 118) * 60)
        elif topic == "cancellation_request" and facts.cancelled_at[b] < NEVER:
            at = max(created + 60, int(facts.cancelled_at[b]) - int((5 + rng.random() * 55) * 60))
        elif topic == "check_out_inquiry" and facts.checked_in_at[b] < NEVER:
            end = int(facts.checked_out_at[b]) if facts.checked_out_at[b] < NEVER else as_of
            at = int(facts.checked_in_at[b]) + int(rng.random() * max(end - int(facts.checked_in_at[b]), 60))
        else:  # pre-arrival window: 0-2 days before check-in (§6.7)
            at = max(created + 60, ci_moment - int(rng.random() * 2 * DAY))
        if at <= as_of:
            threads.append(["BOOKING", topic, at, pi, int(b), int(facts.member[b])])
    n_booking = len(threads)
    mix = cfg.get("mix", {"BOOKING": 0.6, "GENERAL": 0.3, "SUPPORT": 0.1})
    n_general = int(round(n_booking * mix["GENERAL"] / mix["BOOKING"]))
    n_support = int(round(n_booking * mix["SUPPORT"] / mix["BOOKING"]))
    n_m = len(people.index)
    for _ in range(n_general if n_m else 0):
        m = int(rng.random() * n_m)
        start = max(int(people.enrolled_at[m]), plan.history_start_day * DAY)
        at = start + int(rng.random() * max(as_of - start, 60))
        threads.append(["GENERAL", TOPICS["GENERAL"][int(rng.random() * 3)], at, p_index, -1, m])
    stayed = np.flatnonzero(np.isin(facts.status, ["CHECKED_OUT", "COMPLETED"]))
    for _ in range(n_support):
        topic = _choice(rng, {"complaint": 0.5, "feedback": 0.3, "technical_issue": 0.2})
        if topic == "technical_issue" and n_m:
            m = int(rng.random() * n_m)
            start = int(people.enrolled_at[m]) + DAY
            at = start + int(rng.random() * max(as_of - start, 60))
            threads.append(["SUPPORT", topic, at, p_index, -1, m])
        elif len(stayed):
            b = int(stayed[int(rng.random() * len(stayed))])
            at = int(facts.checked_out_at[b]) + int(rng.random() * 3 * DAY)
            if at <= as_of:
                threads.append(["SUPPORT", topic, at, int(facts.property_index[b]), b, int(facts.member[b])])
    # The hub at as_of: a few guests wrote in the last hours and nobody has answered yet (NEW, unassigned).
    recent = np.flatnonzero((facts.created_at > as_of - 30 * DAY) & np.isin(facts.status, ["CONFIRMED", "PENDING"]))
    for b in recent[:: max(1, len(recent) // 3)][:3]:
        threads.append(["BOOKING", "check_in_inquiry", as_of - int((10 + rng.random() * 200) * 60),
                        int(facts.property_index[b]), int(b), int(facts.member[b])])
    threads.sort(key=lambda t: (t[2], t[0], t[4], t[5]))

    # ---- items per thread. Each thread's draws are counter-based (thread number, slot), drawn for all threads at
    # once: a thread keeps its draws whatever the others do, without a generator per thread.
    T = len(threads)
    items: list[Item] = []
    meta = []
    resp = cfg.get("first_response", {})
    ts = plan.root.child("comms", "thread", here.slug)
    ks = np.arange(T, dtype=np.int64)
    channels = choose(cfg["channels"], ts.uniform(ks, 0)).tolist()
    priorities = choose(cfg["priority"], ts.uniform(ks, 1)).tolist()
    escalate_u = ts.uniform(ks, 2).tolist()
    urgent_u = ts.uniform(ks, 3).tolist()
    n_items_all = choose(ITEMS_PMF, ts.uniform(ks, 4)).tolist()
    abandoned_all = (ts.uniform(ks, 5) < 0.06).tolist()
    max_items = max(ITEMS_PMF)
    # Per item j of thread k: a standard normal for the delay before it, a uniform for a night-time wait.
    grid = (ks[:, None] * max_items + np.arange(max_items)).reshape(-1)
    delay_z = ts.normal(grid, 6).reshape(T, max_items).tolist()
    night_u = ts.uniform(grid, 8).reshape(T, max_items).tolist()
    escalated_share = float(cfg.get("escalated_share", 0.3)) * 2
    # Reply delays (minutes), lognormal: (median, sigma) per channel, the staff's answers and the guests' replies.
    answer_delay = {c: (resp.get(c, [60, 600])[0], _sigma(*resp.get(c, [60, 600]))) for c in cfg["channels"]}
    guest_delay = {c: (45, _sigma(45, 240)) if c != "EMAIL" else (240, _sigma(240, 1440)) for c in cfg["channels"]}
    clock = clocks[p_index]
    for k, (cat, topic, at, pi, b, m) in enumerate(threads):
        channel = channels[k]
        priority = priorities[k]
        escalated = cat == "SUPPORT" and topic == "complaint" and escalate_u[k] < escalated_share
        if escalated:
            priority = "URGENT" if urgent_u[k] < 0.3 else "HIGH"
        n_items = n_items_all[k]
        abandoned = abandoned_all[k]
        if k >= T - 3 and at > as_of - 4 * 3600:
            n_items = 2  # the fresh ones: a question waiting for its answer
        z, nu = delay_z[k], night_u[k]
        t = at
        planned = 0
        for j in range(n_items):
            inbound = j % 2 == 0
            if j > 0:
                if not inbound:
                    med, sg = answer_delay[channel]
                    t += int(_lognormal_at(med, sg, z[j]) * 60) + 30
                    local = clock.local_seconds_at(t)
                    if local < 7 * 3600:  # night: the morning shift answers
                        t += 7 * 3600 - local + int(nu[j] * 2700)
                else:
                    med, sg = guest_delay[channel]
                    t += int(_lognormal_at(med, sg, z[j]) * 60) + 30
            items.append(Item(k, "INBOUND" if inbound else "OUTBOUND", t, channel))
            planned += 1
            if abandoned and not inbound:
                break
        meta.append(dict(cat=cat, topic=topic, at=at, pi=pi, b=b, m=m, channel=channel, priority=priority,
                         escalated=escalated, complete=not abandoned, planned=planned))
    # ---- contact points of each thread's guest
    def contact_points(k):
        mt = meta[k]
        if mt["b"] >= 0:
            b = mt["b"]
            return facts.guest_name[b], facts.email[b], facts.phone[b], facts.user_id[b]
        m = mt["m"]
        return people.name[m], people.email[m], people.phone[m], people.user_id[m]

    guests = [contact_points(k) for k in range(T)]  # (name, email, phone, user id) of each thread's guest

    # ---- channel lifecycles, suppressions
    srng = plan.root.child("comms", "lifecycle", here.slug).generator()
    # address → (time, reason, item index); members' addresses as the group's partition decided them.
    suppress_email: dict[str, tuple[int, str, int | None]] = {a: (t, r, None) for a, (t, r) in members.email_suppressed.items()}
    suppress_phone: dict[tuple[str, str], int] = {}
    kept: list[Item] = []
    stopped_threads: set[int] = set()
    for it in sorted(items, key=lambda x: (x.at, x.thread)):
        if it.at > as_of or it.thread in stopped_threads:
            continue
        name, email, phone, _uid = guests[it.thread]
        if it.kind == "EMAIL":
            if it.direction == "OUTBOUND":
                sup = suppress_email.get(email)
                if sup and sup[0] <= it.at and sup[1] in ("HARD_BOUNCE", "SPAM_COMPLAINT"):
                    stopped_threads.add(it.thread)
                    continue
                u = srng.random()
                if email in members.emails and u < float(cfg.get("email_bounce", 0.015)) + 0.013:
                    u = 1.0  # a member's address is verified; only the group's own mail may find it dead
                if u < float(cfg.get("email_bounce", 0.015)):
                    it.extra["status"] = "BOUNCED"
                    if email not in suppress_email:
                        suppress_email[email] = (it.at + 20, "HARD_BOUNCE", len(kept))
                    stopped_threads.add(it.thread)
                elif u < float(cfg.get("email_bounce", 0.015)) + 0.003:
                    it.extra["status"] = "FAILED"
                elif u < float(cfg.get("email_bounce", 0.015)) + 0.013:
                    it.extra["status"] = "SENT"
                else:
                    it.extra["status"] = "DELIVERED"
                    if srng.random() < float(cfg.get("email_spam", 0.001)) and email not in suppress_email \
                            and email not in members.emails:
                        suppress_email[email] = (it.at + 3600, "SPAM_COMPLAINT", len(kept))
                        it.extra["spam"] = True
                        stopped_threads.add(it.thread)
            else:
                it.extra["status"] = "DELIVERED"
        elif it.kind in ("WHATSAPP", "SMS"):
            if it.direction == "OUTBOUND":
                if (it.kind, phone) in suppress_phone and suppress_phone[(it.kind, phone)] <= it.at:
                    stopped_threads.add(it.thread)
                    continue
                outcomes = cfg["whatsapp_outcomes"] if it.kind == "WHATSAPP" else cfg["sms_outcomes"]
                it.extra["status"] = _choice(srng, outcomes)
                if srng.random() < 0.004:
                    it.extra["status"] = "PENDING"  # queued at the provider, no callback yet
            else:
                it.extra["status"] = "READ" if it.kind == "WHATSAPP" else "DELIVERED"
                if srng.random() < float(cfg.get("sms_opt_out", 0.007)) and (it.kind, phone) not in suppress_phone \
                        and phone not in members.phones:
                    it.extra["opt_out"] = True
                    suppress_phone[(it.kind, phone)] = it.at
                    stopped_threads.add(it.thread)
        elif it.kind == "CALL":
            cfg_out = cfg["call_outcomes_inbound"] if it.direction == "INBOUND" else cfg["call_outcomes_outbound"]
            it.extra["status"] = _choice(srng, cfg_out)
        kept.append(it)
    # Live activity at as_of: calls ringing or in progress right now (statuses that exist only in flight).
    live = [k for k in range(T) if meta[k]["at"] > as_of - 6 * 3600]
    for j, st in enumerate(("INITIATED", "RINGING", "ANSWERED")):
        if live:
            k = live[j % len(live)]
            kept.append(Item(k, "INBOUND", as_of - (2 + 25 * j), "CALL", {"status": st, "live": True}))

    by_thread = defaultdict(list)
    for i, it in enumerate(kept):
        by_thread[it.thread].append(i)

    # ---- threads' derived fields and assignment
    sla = cfg.get("sla_minutes", {"URGENT": 15, "HIGH": 60, "NORMAL": 240, "LOW": 1440})
    rows = []
    arng = plan.root.child("comms", "assign", here.slug).generator()
    for k in range(T):
        mt = meta[k]
        its = sorted((kept[i] for i in by_thread.get(k, [])), key=lambda x: x.at)
        its = [x for x in its if not x.extra.get("live")] + [x for x in its if x.extra.get("live")]
        if not its:
            rows.append(None)
            continue
        first_out = next((x.at for x in its if x.direction == "OUTBOUND"), None)
        last = max(x.at for x in its)
        complete = mt["complete"] and len([x for x in its if not x.extra.get("live")]) == mt["planned"] and k not in stopped_threads
        resolved = None
        if first_out is None:
            status = "NEW"
        elif complete and last + 3600 <= as_of:
            resolved = last + int((5 + arng.random() * 115) * 60)
            status = "RESOLVED" if resolved <= as_of else "IN_PROGRESS"
            if status == "IN_PROGRESS":
                resolved = None
        elif not complete and its[-1].direction == "OUTBOUND" and last + 7 * DAY <= as_of:
            resolved, status = last + 7 * DAY, "RESOLVED"  # auto-closed after a week without an answer
        else:
            status = "WAITING_FOR_GUEST" if its[-1].direction == "OUTBOUND" else "IN_PROGRESS"
        if status == "RESOLVED" and resolved < as_of - 30 * DAY and arng.random() < 0.1:
            status = "ARCHIVED"
        pw = props[mt["pi"]]
        if mt["cat"] == "SUPPORT" and mt["escalated"]:
            pool = staff.ids(pw.id, "MANAGER")
        elif mt["cat"] == "BOOKING" and arng.random() < 0.2:
            pool = staff.ids(pw.id, "MANAGER")
        else:
            pool = staff.ids(pw.id, "STAFF_FRONTDESK")
        unassigned = status == "NEW" or (status in ("IN_PROGRESS", "WAITING_FOR_GUEST") and arng.random() < float(cfg.get("unassigned_share", 0.1)) * 3)
        if first_out is not None and status == "NEW":
            unassigned = False
        assignee = None if unassigned or not len(pool) else pool[int(arng.random() * len(pool))]
        limit = sla[mt["priority"]] * 60
        breached = (first_out - mt["at"] > limit) if first_out is not None else (as_of - mt["at"] > limit)
        last_out = max((x.at for x in its if x.direction == "OUTBOUND"), default=None)
        unread = 0 if status in ("RESOLVED", "ARCHIVED") else sum(1 for x in its if x.direction == "INBOUND" and (last_out is None or x.at > last_out))
        rows.append(dict(k=k, status=status, assignee=assignee, first_out=first_out, last=last, resolved=resolved,
                         breached=breached, unread=unread))
    # Threads whose every item was suppressed away do not exist.
    live_threads = [k for k in range(T) if rows[k] is not None]
    id_base = partition.base(here.id)
    new_id = {k: id_base + i + 1 for i, k in enumerate(live_threads)}
    return CommsOut(_tables(plan, world, people, staff, facts, members, threads, meta, rows, live_threads, new_id,
                            kept, guests, suppress_email, suppress_phone, id_base))


def _tables(plan, world, people, staff, facts, members, threads, meta, rows, live_threads, new_id, kept, guests,
            suppress_email, suppress_phone, id_base) -> dict[str, Columns]:
    cfg = plan.profile.comms
    as_of = plan.as_of
    props = world.properties
    rng = plan.root.child("comms", "rows").generator()
    out: dict[str, Columns] = {}
    # ---- contacts: one per guest phone that wrote or was written to
    contact_of: dict[str, int] = dict(members.contact_of)  # members' contacts are the group's rows
    contact_rows = []
    for k in live_threads:
        name, email, phone, uid = guests[k]
        if phone not in contact_of:
            contact_of[phone] = id_base + len(contact_rows) + 1
            contact_rows.append((contact_of[phone], phone, name, email, uid, meta[k]["at"]))
    out["contacts"] = _contacts(contact_rows)

    TH = Columns("threads")
    ids, subj, cat, topic, chan, status, prio, esc, assg, user, contact, booking, prop = ([] for _ in range(13))
    part, tags, unread, fr, res, sla_b, lastm, arch, created = ([] for _ in range(9))
    for k in live_threads:
        mt, r = meta[k], rows[k]
        name, email, phone, uid = guests[k]
        b = mt["b"]
        code = f"{props[mt['pi']].code}-{int(facts.id[b])}" if b >= 0 else ""
        ids.append(new_id[k])
        subj.append(SUBJECTS[mt["topic"]].format(code=code or "", prop=props[mt["pi"]].name))
        cat.append(mt["cat"]), topic.append(mt["topic"]), chan.append(mt["channel"]), status.append(r["status"])
        prio.append(mt["priority"]), esc.append(bool(mt["escalated"])), assg.append(r["assignee"])
        user.append(uid if uid is not None else None)
        contact.append(contact_of[phone])
        booking.append(int(facts.id[b]) if b >= 0 else None)
        prop.append(props[mt["pi"]].id)
        part.append([email, phone])
        tags.append([mt["topic"], mt["channel"].lower()] + (["escalated"] if mt["escalated"] else []))
        unread.append(r["unread"]), fr.append(r["first_out"]), res.append(r["resolved"]), sla_b.append(bool(r["breached"]))
        lastm.append(r["last"]), arch.append(r["status"] == "ARCHIVED"), created.append(mt["at"])
    TH["id"] = np.array(ids, dtype=np.int64)
    TH["subject"] = object_column(subj)
    TH["category"] = object_column(cat)
    TH["topic"] = object_column(topic)
    TH["channel"] = object_column(chan)
    TH["status"] = object_column(status)
    TH["priority"] = object_column(prio)
    TH["is_escalated"] = np.array(esc, dtype=bool)
    TH["assigned_to"] = object_column(assg)
    TH["user_id"] = object_column(user)
    TH["contact_id"] = object_column(contact)
    TH["booking_id"] = object_column(booking)
    TH["property_id"] = np.array(prop, dtype=np.int64)
    TH["participants"] = object_column(part)
    TH["tags"] = object_column(tags)
    TH["unread_count"] = np.array(unread, dtype=np.int64)
    TH["first_response_at"] = _ts(fr)
    TH["resolved_at"] = _ts(res)
    TH["sla_breached"] = np.array(sla_b, dtype=bool)
    TH["last_message_at"] = _ts(lastm)
    TH["is_archived"] = np.array(arch, dtype=bool)
    TH["created_at"] = _ts(created)
    out["threads"] = TH

    # ---- items into their tables
    emails, events, attachments, messages, calls, notes, sups = [], [], [], [], [], [], []
    last_inbound: dict[int, int] = {}
    texts: dict[int, tuple[str, str, str, str]] = {}
    for i, it in enumerate(sorted(kept, key=lambda x: (x.at, x.thread))):
        k = it.thread
        if rows[k] is None:
            continue
        mt = meta[k]
        name, email, phone, uid = guests[k]
        pw = props[mt["pi"]]
        b = mt["b"]
        th = new_id[k]
        if it.direction == "INBOUND":
            last_inbound[k] = it.at
        if k not in texts:  # a thread's texts, made for its first item
            code = f"{pw.code}-{int(facts.id[b])}" if b >= 0 else ""
            texts[k] = (code, INBOUND_TEXT[mt["topic"]].format(code=code, prop=pw.name),
                        OUTBOUND_TEXT.format(prop=pw.name, answer=ANSWERS[mt["topic"]].format(
                            code=code, cin=f"{pw.check_in_minutes // 60:02d}:{pw.check_in_minutes % 60:02d}")),
                        SUBJECTS[mt["topic"]].format(code=code, prop=pw.name))
        code, text_in, text_out, subject = texts[k]
        if it.kind == "EMAIL":
            eid = id_base + len(emails) + 1
            st = it.extra["status"]
            sent = it.at if it.direction == "INBOUND" else min(it.at + 2, as_of) if st != "FAILED" else None
            emails.append((eid, th, it.direction, "TRANSACTIONAL", st,
                           email if it.direction == "INBOUND" else pw.email, [pw.email if it.direction == "INBOUND" else email],
                           subject, text_in if it.direction == "INBOUND" else text_out,
                           mt["topic"], it.at, sent))
            if it.direction == "OUTBOUND":
                if st in ("DELIVERED", "BOUNCED"):
                    t_ev = min(it.at + 5 + int(rng.random() * 25), as_of)
                    events.append((eid, "DELIVERY" if st == "DELIVERED" else "BOUNCE", t_ev, email,
                                   {} if st == "DELIVERED" else {"type": "HardBounce", "description": "mailbox does not exist"}))
                    if st == "DELIVERED":
                        if rng.random() < float(cfg.get("email_open", 0.5)):
                            t_open = t_ev + int(_lognormal(rng, 40, 600) * 60)
                            if t_open <= as_of:
                                events.append((eid, "OPEN", t_open, email, {"platform": "mobile"}))
                                if rng.random() < float(cfg.get("email_click", 0.1)) * 2:
                                    events.append((eid, "CLICK", min(t_open + 30, as_of), email, {"link": "manage-booking"}))
                        if it.extra.get("spam"):
                            events.append((eid, "SPAM_COMPLAINT", min(it.at + 3600, as_of), email, {}))
                if mt["topic"] == "confirmation_request" and st != "FAILED":
                    attachments.append((eid, f"confirmation-{code or th}.pdf", "application/pdf", 48_000 + int(rng.random() * 40_000)))
        elif it.kind in ("WHATSAPP", "SMS"):
            st = it.extra["status"]
            if it.direction == "INBOUND":
                body = "STOP" if it.extra.get("opt_out") else text_in
                messages.append((th, b, it.kind, "INBOUND", st, phone, body, None, None, it.at, it.at, it.at,
                                 it.at if st == "READ" else None, None))
            else:
                template = None
                if it.kind == "WHATSAPP" and it.at - last_inbound.get(k, it.at) > DAY:
                    template = "booking_update"  # outside the 24 h window only templates may be sent (Meta)
                sent = it.at + 1 + int(rng.random() * 4) if st != "PENDING" else None
                delivered = (sent + 1 + int(rng.random() * 9)) if st in ("DELIVERED", "READ") else None
                read = (delivered + int(_lognormal(rng, 10, 120) * 60)) if st == "READ" else None
                if read is not None and read > as_of:
                    read, st = None, "DELIVERED"
                if delivered is not None and delivered > as_of:
                    delivered, st = None, "SENT"
                if sent is not None and sent > as_of:
                    sent, st = None, "PENDING"
                err = WHATSAPP_ERRORS[int(rng.random() * 2)] if st == "FAILED" and it.kind == "WHATSAPP" else (
                    "30003 Unreachable destination handset" if st == "FAILED" else None)
                if st == "FAILED" and sent is None:
                    sent = it.at + 1
                messages.append((th, b, it.kind, "OUTBOUND", st, phone, text_out, template,
                                 {"code": code} if template else None, it.at, sent, delivered, read, err))
        elif it.kind == "CALL":
            st = it.extra["status"]
            inbound = it.direction == "INBOUND"
            answered = completed = duration = rec = None
            if st in ("COMPLETED", "ANSWERED"):
                answered = it.at + 5 + int(rng.random() * 20)
                if st == "COMPLETED":
                    duration = max(5, int(_lognormal(rng, *cfg.get("call_duration_sec", [150, 420]))))
                    completed = answered + duration
                    if completed > as_of:
                        completed = as_of
                        duration = max(1, completed - answered)
                    rec = f"https://recordings.{plan.profile.staff_email_domain}/{th}-{len(calls) + 1}.mp3" if rng.random() < 0.7 else None
            calls.append((th, b, rows[k]["assignee"] if answered else None, it.direction, st,
                          phone if inbound else pw.phone, pw.phone if inbound else phone, duration, it.at, answered,
                          completed, rec))
    # Notes: the assignee's internal note after the first answer (about a third of threads; all escalations).
    for k in live_threads:
        r = rows[k]
        if r["first_out"] is None or r["assignee"] is None:
            continue
        if meta[k]["escalated"] or rng.random() < 0.3:
            at = min(r["first_out"] + int((1 + rng.random() * 29) * 60), as_of)
            notes.append((new_id[k], r["assignee"], "Escalated to the duty manager." if meta[k]["escalated"]
                          else "Guest informed; follow up if no reply.", True, at))

    # Mail in flight at as_of: a reply drafted and one queued at the provider, in open e-mail threads.
    # The fresh threads (the last ones created) get them: assigned, answer being written, not yet sent.
    unsent = [k for k in live_threads if rows[k]["status"] == "NEW" and guests[k][1] not in suppress_email]
    for k, st in zip(unsent[-2:], ("DRAFT", "QUEUED")):
        name, email, phone, uid = guests[k]
        pw = props[meta[k]["pi"]]
        at = max(rows[k]["last"], as_of - 600) if st == "DRAFT" else max(rows[k]["last"], as_of - 3)
        if rows[k]["assignee"] is None:  # by the same rule as every thread: escalations to the manager
            desk = staff.ids(pw.id, "MANAGER" if meta[k]["escalated"] else "STAFF_FRONTDESK")
            rows[k]["assignee"] = desk[0] if len(desk) else None
            TH["assigned_to"][TH["id"] == new_id[k]] = rows[k]["assignee"]
        emails.append((id_base + len(emails) + 1, new_id[k], "OUTBOUND", "TRANSACTIONAL", st, pw.email, [email],
                       "Re: " + SUBJECTS[meta[k]["topic"]].format(code="", prop=pw.name),
                       OUTBOUND_TEXT.format(prop=pw.name, answer="We are looking into it."), meta[k]["topic"], at, None))
    # Suppression rows: e-mail bounces/complaints point at the e-mail with the event; phone opt-outs.
    for addr, (t, reason, _idx) in sorted(suppress_email.items(), key=lambda kv: kv[1][0]):
        if t > as_of or addr in members.email_suppressed:
            continue  # members' suppressions are the group partition's rows
        origin = None
        want = {"HARD_BOUNCE": "BOUNCE", "SPAM_COMPLAINT": "SPAM_COMPLAINT", "UNSUBSCRIBE": "SUBSCRIPTION_CHANGE"}[reason]
        for ev in events:
            if ev[1] == want and ev[3] == addr and ev[2] <= t + 3600:
                origin = ev[0]
                t = max(t, ev[2])
                break
        if origin is None:
            continue
        sups.append(("EMAIL", addr, reason, origin, "postmark-webhook", min(t, as_of)))
    for (ch, phone), t in sorted(suppress_phone.items(), key=lambda kv: kv[1]):
        sups.append((ch, phone, "UNSUBSCRIBE", None, "inbound-stop", t))
    if contact_rows:  # a guest asked by phone never to receive SMS (kept for QA of manual suppression)
        sups.append(("SMS", contact_rows[0][1], "MANUAL_SUPPRESSION", None, "front-desk", max(contact_rows[0][5], as_of - DAY)))
        seen = set()
        sups = [s for s in sups if (s[0], s[1]) not in seen and not seen.add((s[0], s[1]))]

    out.update(_mail_tables(plan, emails, events, attachments, sups, id_base))
    ML = Columns("message_logs")
    ml_ids = id_base + np.arange(1, len(messages) + 1, dtype=np.int64)
    ML["id"] = ml_ids
    ML["contact_id"] = object_column(contact_of.get(m[5]) for m in messages)
    ML["thread_id"] = object_column(m[0] for m in messages)
    ML["booking_id"] = object_column(int(facts.id[m[1]]) if m[1] >= 0 else None for m in messages)
    ML["channel"] = object_column(m[2] for m in messages)
    ML["direction"] = object_column(m[3] for m in messages)
    ML["status"] = object_column(m[4] for m in messages)
    ML["phone"] = object_column(m[5] for m in messages)
    ML["body"] = object_column(m[6] for m in messages)
    ML["template_id"] = object_column(m[7] for m in messages)
    ML["template_params"] = object_column(m[8] for m in messages)
    ML["provider"] = object_column("gupshup" if m[2] == "WHATSAPP" else "exotel" for m in messages)
    pm = scrambled_codes(ml_ids, 12, salt=223)
    ML["provider_message_id"] = object_column(f"msg-{p}" for p in pm)
    ML["provider_status"] = object_column({"PENDING": "enqueued", "SENT": "sent", "DELIVERED": "delivered", "READ": "read",
                                     "FAILED": "failed"}[m[4]] for m in messages)
    ML["error_message"] = object_column(m[13] for m in messages)
    ML["created_at"] = _ts([m[9] for m in messages])
    ML["sent_at"] = _ts([m[10] for m in messages])
    ML["delivered_at"] = _ts([m[11] for m in messages])
    ML["read_at"] = _ts([m[12] for m in messages])
    out["message_logs"] = ML
    CL = Columns("call_logs")
    cl_ids = id_base + np.arange(1, len(calls) + 1, dtype=np.int64)
    CL["id"] = cl_ids
    CL["contact_id"] = object_column(contact_of.get(c[5] if c[3] == "INBOUND" else c[6]) for c in calls)
    CL["thread_id"] = object_column(c[0] for c in calls)
    CL["booking_id"] = object_column(int(facts.id[c[1]]) if c[1] >= 0 else None for c in calls)
    CL["handled_by"] = object_column(c[2] for c in calls)
    CL["direction"] = object_column(c[3] for c in calls)
    CL["status"] = object_column(c[4] for c in calls)
    CL["from_number"] = object_column(c[5] for c in calls)
    CL["to_number"] = object_column(c[6] for c in calls)
    CL["duration_sec"] = object_column(c[7] for c in calls)
    CL["provider"] = np.full(len(calls), "exotel", dtype=object)
    CL["provider_call_id"] = object_column(f"call-{p}" for p in scrambled_codes(cl_ids, 12, salt=227))
    CL["recording_url"] = object_column(c[11] for c in calls)
    CL["initiated_at"] = _ts([c[8] for c in calls])
    CL["answered_at"] = _ts([c[9] for c in calls])
    CL["completed_at"] = _ts([c[10] for c in calls])
    out["call_logs"] = CL
    N = Columns("conversation_notes")
    N["id"] = id_base + np.arange(1, len(notes) + 1, dtype=np.int64)
    N["thread_id"] = np.array([n[0] for n in notes], dtype=np.int64)
    N["author_id"] = object_column(n[1] for n in notes)
    N["content"] = object_column(n[2] for n in notes)
    N["is_internal"] = np.array([n[3] for n in notes], dtype=bool)
    N["created_at"] = _ts([n[4] for n in notes])
    out["conversation_notes"] = N
    return out


def _contacts(contact_rows: list[tuple]) -> Columns:
    """(id, phone, name, email, user id, created at) rows as the contacts table."""
    C = Columns("contacts")
    C["id"] = np.array([r[0] for r in contact_rows], dtype=np.int64)
    C["phone"] = object_column(r[1] for r in contact_rows)
    C["name"] = object_column(r[2] for r in contact_rows)
    C["email"] = object_column(r[3] for r in contact_rows)
    C["user_id"] = object_column(r[4] for r in contact_rows)
    C["created_at"] = _ts([r[5] for r in contact_rows])
    return C


def _mail_tables(plan: Plan, emails, events, attachments, sups, id_base: int) -> dict[str, Columns]:
    """E-mails (with their ids), their events and attachments, and suppressions, as tables of one partition."""
    out: dict[str, Columns] = {}
    E = Columns("emails")
    E["id"] = np.array([e[0] for e in emails], dtype=np.int64)
    E["thread_id"] = object_column(e[1] for e in emails)
    mids = scrambled_codes(E["id"], 12, salt=211)
    E["message_id"] = object_column(f"<{m}@{plan.profile.staff_email_domain}>" for m in mids)
    E["provider_message_id"] = object_column(None if e[2] == "INBOUND" else f"pm-{m}" for e, m in zip(emails, mids))
    E["direction"] = object_column(e[2] for e in emails)
    E["category"] = object_column(e[3] for e in emails)
    E["status"] = object_column(e[4] for e in emails)
    E["from_email"] = object_column(e[5] for e in emails)
    E["to_emails"] = object_column(e[6] for e in emails)
    E["cc"] = object_column([] for _ in emails)
    E["subject"] = object_column(e[7] for e in emails)
    E["body_text"] = object_column(e[8] for e in emails)
    E["tag"] = object_column(e[9] for e in emails)
    E["created_at"] = _ts([e[10] for e in emails])
    E["sent_at"] = _ts([e[11] for e in emails])
    out["emails"] = E
    A = Columns("email_attachments")
    A["id"] = id_base + np.arange(1, len(attachments) + 1, dtype=np.int64)
    A["email_id"] = np.array([a[0] for a in attachments], dtype=np.int64)
    A["filename"] = object_column(a[1] for a in attachments)
    A["content_type"] = object_column(a[2] for a in attachments)
    A["size_bytes"] = np.array([a[3] for a in attachments], dtype=np.int64)
    A["storage_url"] = object_column(f"https://files.{plan.profile.staff_email_domain}/{a[0]}/{a[1]}" for a in attachments)
    out["email_attachments"] = A
    events.sort(key=lambda e: (e[2], e[0]))
    V = Columns("email_events")
    V["id"] = id_base + np.arange(1, len(events) + 1, dtype=np.int64)
    V["email_id"] = np.array([e[0] for e in events], dtype=np.int64)
    V["event_type"] = object_column(e[1] for e in events)
    V["occurred_at"] = _ts([e[2] for e in events])
    V["recipient"] = object_column(e[3] for e in events)
    V["details"] = object_column(e[4] for e in events)
    V["user_agent"] = object_column("Mozilla/5.0 (Linux; Android 14)" if e[1] in ("OPEN", "CLICK", "LINK_CLICK") else None for e in events)
    V["ip"] = object_column("192.0.2." + str(1 + e[0] % 250) if e[1] in ("OPEN", "CLICK", "LINK_CLICK") else None for e in events)  # RFC 5737 TEST-NET-1
    out["email_events"] = V
    S = Columns("suppressions")
    S["id"] = id_base + np.arange(1, len(sups) + 1, dtype=np.int64)
    S["channel"] = object_column(s[0] for s in sups)
    S["address"] = object_column(s[1] for s in sups)
    S["reason"] = object_column(s[2] for s in sups)
    S["origin_email_id"] = object_column(s[3] for s in sups)
    S["origin"] = object_column(s[4] for s in sups)
    S["suppressed_at"] = _ts([s[5] for s in sups])
    out["suppressions"] = S
    return out


def member_comms(plan: Plan, world, people, opt_in: np.ndarray) -> tuple[dict[str, Columns], MemberChannels]:
    """The group's own channels to its members, in the group's partition: a contact per member (the CRM knows
    every member), the newsletter to those who opted in, and what the newsletter's hard bounces, spam complaints
    and unsubscribes suppress (inv. 24). Every property partition honours these suppressions."""
    cfg = plan.profile.comms
    as_of = plan.as_of
    n = len(people.index)
    contact_rows = [(i + 1, people.phone[i], people.name[i], people.email[i], people.user_id[i],
                     int(people.enrolled_at[i])) for i in range(n)]
    emails, events, sups = [], [], []
    suppressed: dict[str, tuple[int, str]] = {}
    per_year = float(cfg.get("marketing_emails_per_member_year", 4))
    # Per newsletter sent (Mailchimp, "Email Marketing Benchmarks", Oct 2019, all accounts: hard bounce 0.40%;
    # March 2018: abuse complaints 0.012%); unsubscribes from the profile.
    bounce = float(cfg.get("marketing_bounce", 0.004))
    spam = float(cfg.get("marketing_spam", 0.00012))
    unsubscribe = float(cfg.get("marketing_unsubscribe", 0.003))
    mrng = plan.root.child("comms", "marketing").generator()
    sender = f"news@{plan.profile.staff_email_domain}"
    subject = f"News from {plan.profile.brand['name']}"
    for m in np.flatnonzero(opt_in):
        start = int(people.enrolled_at[m]) + DAY
        years = max(as_of - start, 0) / (365.25 * DAY)
        addr = people.email[m]
        for t in sorted(start + (mrng.random(mrng.poisson(per_year * years)) * (as_of - start)).astype(np.int64)):
            t = int(t)
            if addr in suppressed:
                break  # nothing more goes to a suppressed address (an unsubscribe stops the newsletter)
            eid = len(emails) + 1
            u = mrng.random()
            if u < bounce and t + 60 <= as_of:
                emails.append((eid, None, "OUTBOUND", "MARKETING", "BOUNCED", sender, [addr], subject,
                               "This month at our hotels.", "newsletter", t, t + 2))
                events.append((eid, "BOUNCE", t + 10, addr, {"type": "HardBounce", "description": "mailbox does not exist"}))
                suppressed[addr] = (t + 10, "HARD_BOUNCE")
                sups.append(("EMAIL", addr, "HARD_BOUNCE", eid, "postmark-webhook", t + 10))
                break
            emails.append((eid, None, "OUTBOUND", "MARKETING", "DELIVERED", sender, [addr], subject,
                           "This month at our hotels.", "newsletter", t, t + 2))
            events.append((eid, "DELIVERY", min(t + 10, as_of), addr, {}))
            if mrng.random() < 0.25 and t + 7200 <= as_of:
                events.append((eid, "OPEN", t + 7200, addr, {}))
                if mrng.random() < 0.2:
                    events.append((eid, "LINK_CLICK", t + 7260, addr, {"link": "offers"}))
            v = mrng.random()
            if v < spam and t + 3600 <= as_of:
                events.append((eid, "SPAM_COMPLAINT", t + 3600, addr, {}))
                suppressed[addr] = (t + 3600, "SPAM_COMPLAINT")
                sups.append(("EMAIL", addr, "SPAM_COMPLAINT", eid, "postmark-webhook", t + 3600))
            elif v < spam + unsubscribe and t + 7300 <= as_of:
                events.append((eid, "SUBSCRIPTION_CHANGE", t + 7300, addr, {"suppress_sending": True}))
                suppressed[addr] = (t + 7300, "UNSUBSCRIBE")
                sups.append(("EMAIL", addr, "UNSUBSCRIBE", eid, "postmark-webhook", t + 7300))
    tables = {"contacts": _contacts(contact_rows)}
    tables.update(_mail_tables(plan, emails, events, [], sups, 0))
    channels = MemberChannels(email_suppressed=suppressed, emails=frozenset(people.email.tolist()),
                              phones=frozenset(people.phone.tolist()),
                              contact_of={p: i + 1 for i, p in enumerate(people.phone.tolist())})
    return tables, channels
