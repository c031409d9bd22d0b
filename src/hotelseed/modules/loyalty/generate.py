"""Loyalty replayed from the stays, in time order per member (platform.md §7 step 6).

Nothing about a member's status is drawn: enrolment opens a MEMBER row; each check-out of a credited
booking earns points at the tier in force at that moment, then the calendar-year metrics decide whether a
threshold was crossed (AUTO_UPGRADE). At each 1 January the tier becomes what last year's metrics earned
(DOWNGRADE when lower; RE_QUALIFICATION when a gifted or manual tier meets the metrics again). A tier
earned in a year is kept through the next one, as Hilton, Marriott and IHG do. Redemptions, referrals,
goodwill adjustments, inactivity expiry and tier gifts are events in the same timeline, so the ledger is a
running balance by construction.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field

import numpy as np

from hotelseed.core.columns import Columns, object_column, time_column
from hotelseed.core.ids import scrambled_codes
from hotelseed.modules.bookings.generate import NEVER
from hotelseed.plan import DAY, Plan

TIERS = ("MEMBER", "SILVER", "GOLD", "PLATINUM", "DIAMOND")
RANK = {t: i for i, t in enumerate(TIERS)}
# Event order at equal times: year rollover, then what happens at that instant.
EV_ROLLOVER, EV_ENROLL, EV_BONUS, EV_STAY, EV_REFERRAL, EV_REDEEM, EV_ADJUST, EV_TRANSFER_OUT, EV_TRANSFER_IN, \
    EV_MANUAL, EV_AWARD, EV_REVERSAL = range(12)


def year_start(year: int) -> int:
    return int(dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp())


def year_of(ts: int) -> int:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).year


def earned_tier(tiers: list[dict], points: int, stays: int, nights: int, spend: int) -> str:
    """The highest tier any of whose thresholds is met (OR semantics, loyaltyService.calculateTier)."""
    best = "MEMBER"
    for t in tiers:
        if t["rank"] == 1:
            continue
        if points >= t["min_points"] > 0 or stays >= t["min_stays"] > 0 or nights >= t["min_nights"] > 0 or \
                spend >= t["min_spend"] > 0:
            best = t["tier"]
    return best


@dataclass
class Ledger:
    rows: list[tuple] = field(default_factory=list)  # (account, user, type, points, before, after, reason, booking, rule, campaign, referral, redemption, created_by, meta, at)


@dataclass
class MemberState:
    account: int
    user: object
    tier: str = "MEMBER"
    granted: str | None = None  # reason of the open row when not earned (TRANSFER / MANUAL_ADJUSTMENT)
    balance: int = 0
    last_activity: int = 0
    year: int = 0
    ytd: list = field(default_factory=lambda: [0, 0, 0, 0])  # points, stays, nights, spend
    last_year: list = field(default_factory=lambda: [0, 0, 0, 0])
    life: list = field(default_factory=lambda: [0, 0, 0])  # stays, nights, spend
    history: list = field(default_factory=list)  # [from, to, pts, stays, nights, spend, reason, at]
    first_checkout: int | None = None


@dataclass
class LoyaltyOut:
    tables: dict[str, Columns]
    timeline: dict[int, list[tuple[int, str]]]  # account → [(valid_from, tier)]
    award_night: np.ndarray  # by booking row: its first night was paid with a FREE_NIGHT redemption


class Replay:
    def __init__(self, plan: Plan, world, people, facts, stream):
        self.plan, self.world, self.people, self.facts = plan, world, people, facts
        self.tiers = world.tiers
        self.rate = {t["tier"]: t["base_points_per_100"] for t in world.tiers}
        self.rules = world.rules
        self.stream = stream
        self.cfg = plan.profile.members
        self.ledger = Ledger()
        self.redemptions: list[dict] = []
        self.award_night = np.zeros(len(facts.id), dtype=bool)
        # Each member's bookings (rows of facts), found once: a member's replay looks at its own rows only.
        order = np.argsort(facts.member, kind="stable")
        bounds = np.searchsorted(facts.member[order], np.arange(len(people.index) + 1))
        self.rows_of = [order[bounds[i]:bounds[i + 1]] for i in range(len(people.index))]
        self.stayed = facts.loyalty_linked & np.isin(facts.status, ["CHECKED_OUT", "COMPLETED"])
        self.award_u = stream.child("award").uniform(facts.id, 0)  # per booking: does the member pay in points?
        self.awardable = facts.loyalty_linked & (facts.source == "WEB_DIRECT") & \
            np.isin(facts.status, ["CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "COMPLETED"])

    # -- ledger
    def post(self, s: MemberState, kind: str, points: int, at: int, reason: str, booking=None, rule=None,
             campaign=None, referral=None, redemption=None, created_by=None, meta=None) -> None:
        if points == 0:
            return
        self.check_expiry(s, at)
        before = s.balance
        s.balance += points
        assert s.balance >= 0, "ledger would go negative"
        self.ledger.rows.append((s.account, s.user, kind, points, before, s.balance, reason, booking, rule, campaign,
                                 referral, redemption, created_by, meta or {}, at))
        if kind in ("EARN", "BONUS", "REDEEM", "REFERRAL", "ADJUST", "TRANSFER"):
            s.last_activity = at
        if kind in ("EARN", "BONUS"):
            s.ytd[0] += points

    def check_expiry(self, s: MemberState, at: int) -> None:
        """Inactivity expiry (Marriott/Hyatt 24 months), for MEMBER tier only (IHG: Silver+ never expire)."""
        months = int(self.cfg.get("expiry_months", 24))
        due = s.last_activity + int(months * 30.44 * DAY)
        if s.balance > 0 and s.tier == "MEMBER" and due <= at and due <= self.plan.as_of:
            before = s.balance
            s.balance = 0
            self.ledger.rows.append((s.account, s.user, "EXPIRE", -before, before, 0,
                                     f"Points expired after {months} months without activity", None, None, None,
                                     None, None, None, {"inactive_since": s.last_activity}, due))
            s.last_activity = due

    # -- tiers
    def set_tier(self, s: MemberState, new: str, reason: str, at: int, metrics) -> None:
        if new == s.tier:
            return
        s.history.append([s.tier, new, *metrics, reason, at])
        s.tier = new
        s.granted = reason if reason in ("TRANSFER", "MANUAL_ADJUSTMENT") else None

    def rollover(self, s: MemberState, year: int, at: int) -> None:
        while s.year < year:
            s.last_year, s.ytd = s.ytd, [0, 0, 0, 0]
            s.year += 1
            if s.year == year:
                earned = earned_tier(self.tiers, *s.last_year)
                if earned != s.tier:
                    reason = "RE_QUALIFICATION" if s.granted else ("DOWNGRADE" if RANK[earned] < RANK[s.tier] else "RE_QUALIFICATION")
                    self.set_tier(s, earned, reason, at, s.last_year)
                s.granted = None if earned == s.tier else s.granted
            else:  # a whole year with no events: last year earned nothing
                s.last_year = [0, 0, 0, 0]

    def multipliers(self, b: int) -> tuple[float, list[str], int | None]:
        f = self.facts
        flags = {"weekend": bool(f.weekend[b]), "long_stay": bool(f.nights[b] >= 5), "direct": f.source[b] == "WEB_DIRECT",
                 "off_season": bool(f.off_season[b]), "premium_room": bool(f.premium[b]), "prepaid": bool(f.prepaid[b])}
        mult, codes, best, best_m = 1.0, [], None, 0.0
        for r in self.rules:
            if flags.get(r["when"]):
                mult *= r["multiplier"]
                codes.append(r["code"])
                if r["multiplier"] > best_m:
                    best, best_m = r["id"], r["multiplier"]
        return mult, codes, best

    def run_member(self, i: int, extra: list[tuple]) -> MemberState:
        p, f = self.people, self.facts
        account = i + 1
        s = MemberState(account=account, user=p.user_id[i])
        enrolled = int(p.enrolled_at[i])
        s.year = year_of(enrolled)
        s.last_activity = enrolled
        s.history.append([None, "MEMBER", 0, 0, 0, 0, "ENROLLMENT", enrolled])
        events: list[tuple] = [(enrolled + 1, EV_BONUS, None)]
        own = self.rows_of[i]
        mine = own[self.stayed[own]]
        events += [(int(f.checked_out_at[b]), EV_STAY, int(b)) for b in mine]
        if len(mine):
            s.first_checkout = int(f.checked_out_at[mine].min())
        # Award nights: a member with enough points may pay the first night of a web booking with them.
        award_ok = own[self.awardable[own]]
        events += [(int(f.created_at[b]) + 30, EV_AWARD, int(b)) for b in award_ok]
        u = self.stream.child("member", i)
        g = u.generator()
        # Redemption attempts: in each year, with the profile's share (10-20% of members a year, §6.6).
        for y in range(year_of(enrolled), year_of(self.plan.as_of) + 1):
            if g.random() < float(self.cfg.get("redeem_share_per_year", 0.15)):
                t = max(year_start(y), enrolled + DAY) + int(g.random() * 365 * DAY)
                if t <= self.plan.as_of:
                    events.append((t, EV_REDEEM, float(g.random())))
        if g.random() < 0.04:  # goodwill after a service failure, posted by a manager (assumption)
            t = enrolled + int(g.random() * max(self.plan.as_of - enrolled, 1))
            events.append((t, EV_ADJUST, int(self.cfg.get("goodwill_points", 250))))
        events += extra
        for y in range(year_of(enrolled) + 1, year_of(self.plan.as_of) + 1):
            events.append((year_start(y), EV_ROLLOVER, y))
        # A time-ordered queue: handling an event may schedule a later one (a cancelled redemption's reversal).
        queue = [(at, kind, seq, data) for seq, (at, kind, data) in enumerate(events)]
        heapq.heapify(queue)
        self.later = lambda at, kind, data: heapq.heappush(queue, (at, kind, len(queue) + 10**9, data))
        while queue:
            at, kind, _seq, data = heapq.heappop(queue)
            if at > self.plan.as_of:
                continue
            if kind == EV_ROLLOVER:
                self.check_expiry(s, at)
                self.rollover(s, data, at)
                continue
            if year_of(at) != s.year:
                self.rollover(s, year_of(at), year_start(year_of(at)))
            self.check_expiry(s, at)  # before any decision that depends on the balance
            if kind == EV_BONUS:
                self.post(s, "BONUS", int(self.cfg.get("enrollment_bonus", 500)), at, "Enrollment bonus",
                          campaign=self.world.campaigns.get("WELCOME"))
            elif kind == EV_STAY:
                b = data
                total = int(f.total[b])
                # The tier in force when the guest checked out: a change made at this very instant (by another
                # stay checked out at the same second) is not in force yet.
                last = s.history[-1]
                tier = last[0] if last[7] == at and last[0] is not None else s.tier
                base = total * self.rate[tier] // 10_000
                mult, codes, rule = self.multipliers(b)
                pts = int(np.floor(base * mult + 1e-9))
                self.post(s, "EARN", pts, at, f"Stay {f.nights[b]} nights", booking=int(f.id[b]), rule=rule,
                          meta={"tier": tier, "base": base, "rules": codes, "multiplier": round(mult, 4)})
                s.ytd[1] += 1
                s.ytd[2] += int(f.nights[b])
                s.ytd[3] += total
                s.life[0] += 1
                s.life[1] += int(f.nights[b])
                s.life[2] += total
                earned = earned_tier(self.tiers, *s.ytd)
                if RANK[earned] > RANK[s.tier]:
                    self.set_tier(s, earned, "AUTO_UPGRADE", at, list(s.ytd))
            elif kind == EV_REDEEM:
                self.redeem(s, at, data)
            elif kind == EV_ADJUST:
                self.post(s, "ADJUST", data, at, "Goodwill after a guest complaint",
                          campaign=self.world.campaigns.get("SERVICE_RECOVERY"), meta={"by": "manager"})
            elif kind == EV_REFERRAL:
                points, referral = data
                self.post(s, "REFERRAL", points, at, "Referral reward", referral=referral)
            elif kind == EV_TRANSFER_OUT:
                deduction, transfer = data
                if deduction and s.balance >= deduction:
                    self.post(s, "TRANSFER", -deduction, at, "Tier gift", meta={"transfer_id": transfer})
            elif kind == EV_TRANSFER_IN:
                to_tier, _transfer = data
                if RANK[to_tier] > RANK[s.tier]:
                    self.set_tier(s, to_tier, "TRANSFER", at, list(s.ytd))
            elif kind == EV_AWARD:
                self.award(s, at, data)
            elif kind == EV_REVERSAL:
                points, rid = data
                self.post(s, "REVERSAL", points, at, "Redemption cancelled", redemption=rid)
            elif kind == EV_MANUAL:
                if s.tier in ("MEMBER", "SILVER"):
                    self.set_tier(s, TIERS[RANK[s.tier] + 1], "MANUAL_ADJUSTMENT", at, list(s.ytd))
        self.check_expiry(s, self.plan.as_of)
        if year_of(self.plan.as_of) != s.year:
            self.rollover(s, year_of(self.plan.as_of), year_start(year_of(self.plan.as_of)))
        return s

    def award(self, s: MemberState, at: int, b: int) -> None:
        item = next((it for it in self.world.items if it["type"] == "FREE_NIGHT"), None)
        share = float(self.cfg.get("award_night_share", 0.3))
        if item is None or s.balance < item["points_cost"] or self.award_u[b] >= share:
            return
        f = self.facts
        rid = len(self.redemptions) + 1
        in_house = f.checked_in_at[b] < NEVER
        self.redemptions.append(dict(id=rid, item_id=item["id"], account=s.account, points=int(item["points_cost"]),
                                     status="USED" if in_house else "CONFIRMED", redeemed_at=at,
                                     expires_at=at + int(item["valid_days"]) * DAY, booking=int(f.id[b]),
                                     used_at=int(f.checked_in_at[b]) if in_house else None, cancelled_at=None))
        self.post(s, "REDEEM", -int(item["points_cost"]), at, f"Award night on booking {int(f.id[b])}", booking=int(f.id[b]),
                  redemption=rid, meta={"booking_id": int(f.id[b])})
        self.award_night[b] = True

    def redeem(self, s: MemberState, at: int, u: float) -> None:
        items = [it for it in self.world.items if it["points_cost"] <= s.balance and RANK[it["min_tier"]] <= RANK[s.tier]]
        if not items:
            return
        it = items[int(u * len(items)) % len(items)]
        rid = len(self.redemptions) + 1
        expires = at + int(it["valid_days"]) * DAY
        as_of = self.plan.as_of
        status, used, cancelled = "CONFIRMED", None, None
        if u < 0.06 and at + 2 * DAY <= as_of:
            status, cancelled = "CANCELLED", at + 2 * DAY
        elif at > as_of - 2 * DAY:
            status = "PENDING"
        elif u < 0.75 and at + int(u * it["valid_days"] * DAY * 0.5) + 3600 <= as_of:
            status, used = "USED", at + int(u * it["valid_days"] * DAY * 0.5) + 3600
        elif expires < as_of:
            status = "EXPIRED"
        self.redemptions.append(dict(id=rid, item_id=it["id"], account=s.account, points=int(it["points_cost"]),
                                     status=status, redeemed_at=at, expires_at=expires, used_at=used,
                                     cancelled_at=cancelled))
        self.post(s, "REDEEM", -int(it["points_cost"]), at, f"Redeemed {it['name']}", redemption=rid)
        if cancelled is not None:
            self.later(cancelled, EV_REVERSAL, (int(it["points_cost"]), rid))


def timeline_tier(timeline: list[tuple[int, str]], at: int) -> str:
    tier = "MEMBER"
    for t0, tier_at in timeline:
        if t0 <= at:
            tier = tier_at
        else:
            break
    return tier


def generate_loyalty(plan: Plan, world, people, facts, run_id: int) -> LoyaltyOut:
    stream = plan.root.child("loyalty")
    cfg = plan.profile.members
    n = len(people.index)
    as_of = plan.as_of
    # --- referrals: member i may have been referred by an earlier-enrolled member j < i (stable under growth)
    rs = stream.child("referrals")
    referred_by = np.full(n, -1)
    referred_at = np.zeros(n, dtype=np.int64)
    for i in range(1, n):
        if rs.uniform(i, 0) < float(cfg.get("referral_share", 0.1)):
            t = int(people.enrolled_at[i]) - int((1 + rs.uniform(i, 1) * 20) * DAY)
            cand = np.flatnonzero(people.enrolled_at[:i] < t)
            if len(cand):
                referred_by[i] = cand[int(rs.uniform(i, 2) * len(cand)) % len(cand)]
                referred_at[i] = t
    referrals = []
    extra: dict[int, list] = {i: [] for i in range(n)}
    first_checkout = {}
    linked_out = facts.loyalty_linked & np.isin(facts.status, ["CHECKED_OUT", "COMPLETED"])
    for b in np.flatnonzero(linked_out):
        m = int(facts.member[b])
        first_checkout[m] = min(first_checkout.get(m, 1 << 62), int(facts.checked_out_at[b]))
    reward = int(cfg.get("referral_reward", 750))
    for i in np.flatnonzero(referred_by >= 0):
        rid = len(referrals) + 1
        done = first_checkout.get(int(i))
        referrals.append(dict(id=rid, referrer=int(referred_by[i]) + 1, referred=int(i) + 1, email=people.email[i],
                              status="COMPLETED" if done else "SIGNED_UP", referred_at=int(referred_at[i]),
                              signed_up_at=int(people.enrolled_at[i]), completed_at=done,
                              expires_at=int(referred_at[i]) + 90 * DAY))
        if done:
            extra[int(referred_by[i])].append((done, EV_REFERRAL, (reward, rid)))
            extra[int(i)].append((done, EV_REFERRAL, (reward, rid)))
    for j in range(n):  # codes shared that nobody used
        if rs.uniform(j, 5) < float(cfg.get("unused_referral_codes", 0.08)):
            t = int(people.enrolled_at[j]) + int(rs.uniform(j, 6) * max(as_of - int(people.enrolled_at[j]), DAY))
            rid = len(referrals) + 1
            referrals.append(dict(id=rid, referrer=j + 1, referred=None, email=f"friend.of.m{j + 1}@example.org",
                                  status="EXPIRED" if t + 90 * DAY < as_of else "PENDING", referred_at=t,
                                  signed_up_at=None, completed_at=None, expires_at=t + 90 * DAY))
    # --- first pass: each member's own timeline, to find who could gift a tier and when
    rep = Replay(plan, world, people, facts, stream)
    first = [rep.run_member(i, list(extra[i])) for i in range(n)]
    timelines = {i: [(h[7], h[1]) for h in first[i].history] for i in range(n)}
    transfers = []
    ts_stream = stream.child("transfers").generator()
    statuses = ["COMPLETED", "PENDING", "CANCELLED", "REJECTED", "COMPLETED"]
    wanted = max(int(cfg.get("transfers", 2)), len(statuses))
    manual = []
    # Senders: members while they hold PLATINUM or DIAMOND (a privilege, like Hilton Diamond gifting).
    spells = []
    for i in range(n):
        tl = timelines[i] + [(as_of, None)]
        for (t0, tier), (t1, _next) in zip(tl, tl[1:]):
            if tier in ("PLATINUM", "DIAMOND") and t1 - t0 > 2 * DAY:
                spells.append((i, t0, t1, tier))
    for k in range(wanted if spells else 0):
        st = statuses[k % len(statuses)]
        open_spells = [sp for sp in spells if sp[2] == as_of]
        pool = open_spells if st == "PENDING" and open_spells else spells
        snd, t0, t1, from_tier = pool[int(ts_stream.random() * len(pool))]
        t = t1 - DAY if st == "PENDING" else t0 + int(ts_stream.random() * (t1 - t0 - 2 * DAY))
        if st == "PENDING" and t1 < as_of:
            st = "CANCELLED"  # a request that was not acted on while the sender still held the tier
        receivers = [r for r in range(n) if r != snd and people.enrolled_at[r] < t
                     and RANK[timeline_tier(timelines[r], t)] < RANK["GOLD"]]
        if not receivers:
            continue
        rcv_i = receivers[int(ts_stream.random() * len(receivers))]
        tid = len(transfers) + 1
        done = t + DAY if st == "COMPLETED" and t + DAY <= as_of else None
        transfers.append(dict(id=tid, sender=snd, receiver=rcv_i, from_tier=from_tier, to_tier="GOLD",
                              deduction=5000 if done else 0, status=st if done or st != "COMPLETED" else "PENDING",
                              requested_at=t, completed_at=done))
        if done:
            extra[snd].append((done, EV_TRANSFER_OUT, (5000, tid)))
            extra[rcv_i].append((done, EV_TRANSFER_IN, ("GOLD", tid)))
    # The programme at as_of: a redemption requested hours ago is being fulfilled (PENDING), and an earlier
    # one was cancelled and its points given back (REVERSAL); by the members with the largest balances.
    richest = sorted(range(n), key=lambda i: (-first[i].balance, i))
    if n >= 1:
        extra[richest[0]].append((as_of - 6 * 3600, EV_REDEEM, 0.5))
    if n >= 2:
        extra[richest[1]].append((max(as_of - 30 * DAY, int(people.enrolled_at[richest[1]]) + DAY), EV_REDEEM, 0.01))
    # One goodwill status match by a manager (MANUAL_ADJUSTMENT): made last summer, so that the next 1 January
    # re-evaluates it (RE_QUALIFICATION), on the member with the most stays among the MEMBER and SILVER members
    # enrolled by then (any MEMBER or SILVER member, 20 days ago, when nobody was).
    if n:
        last_summer = year_start(year_of(as_of) - 1) + 180 * DAY
        low = [i for i in range(n) if first[i].tier in ("MEMBER", "SILVER")]
        early = [i for i in low if int(people.enrolled_at[i]) + DAY <= last_summer]
        if early or low:
            manual.append(max(early or low, key=lambda i: (first[i].life[0], -i)))
        for i in manual:
            enrolled = int(people.enrolled_at[i])
            at = last_summer if enrolled + DAY <= last_summer else max(as_of - 20 * DAY, enrolled + DAY)
            extra[i].append((at, EV_MANUAL, None))
    # --- second pass with the gifts and manual adjustments in the timeline
    rep = Replay(plan, world, people, facts, stream)
    states = [rep.run_member(i, sorted(extra[i], key=lambda e: (e[0], e[1]))) for i in range(n)]
    # What a gift actually cost the sender is what the ledger took (nothing if the balance was too small).
    taken = {r[13]["transfer_id"]: -r[3] for r in rep.ledger.rows if r[2] == "TRANSFER"}
    for t in transfers:
        t["deduction"] = taken.get(t["id"], 0)
    tables = _tables(plan, world, people, facts, states, rep, referrals, transfers, run_id)
    timeline = {s.account: [(h[7], h[1]) for h in s.history] for s in states}
    return LoyaltyOut(tables, timeline, rep.award_night)


def _ts(values) -> np.ndarray:
    return time_column(values)


def _tables(plan, world, people, facts, states, rep, referrals, transfers, run_id) -> dict[str, Columns]:
    as_of = plan.as_of
    yr = year_of(as_of)
    n = len(states)
    A = Columns("loyalty_accounts")
    A["id"] = np.arange(1, n + 1, dtype=np.int64)
    A["member_number"] = np.array([f"{i + 1:06d}" for i in range(n)], dtype=object)
    A["user_id"] = people.user_id
    A["tier"] = object_column([s.tier for s in states])
    A["points_balance"] = np.array([s.balance for s in states], dtype=np.int64)
    A["lifetime_stays"] = np.array([s.life[0] for s in states], dtype=np.int64)
    A["lifetime_nights"] = np.array([s.life[1] for s in states], dtype=np.int64)
    A["lifetime_spend"] = np.array([s.life[2] for s in states], dtype=np.int64)
    A["qualification_year_start"] = np.full(n, np.datetime64(f"{yr}-01-01"), dtype="datetime64[D]")
    A["qualification_year_end"] = np.full(n, np.datetime64(f"{yr}-12-31"), dtype="datetime64[D]")
    A["marketing_opt_in"] = plan.root.child("loyalty", "opt-in").uniform(people.index, 0) < float(plan.profile.members.get("marketing_opt_in", 0.5))
    A["enrolled_at"] = people.enrolled_at.astype("datetime64[s]")
    A["seed_run_id"] = np.full(n, run_id, dtype=np.int64)
    out = {"loyalty_accounts": A}

    rows = sorted(rep.ledger.rows, key=lambda r: (r[0], r[14]))
    L = Columns("points_ledger")
    L["id"] = np.arange(1, len(rows) + 1, dtype=np.int64)
    for name, k in (("loyalty_account_id", 0), ("user_id", 1), ("type", 2), ("points", 3), ("balance_before", 4),
                    ("balance_after", 5), ("reason", 6), ("booking_id", 7), ("rule_id", 8), ("campaign_id", 9),
                    ("referral_id", 10), ("redemption_id", 11), ("created_by", 12), ("metadata", 13)):
        col = object_column([r[k] for r in rows])
        L[name] = col.astype(np.int64) if name in ("loyalty_account_id", "points", "balance_before", "balance_after") else col
    L["created_at"] = _ts([r[14] for r in rows])
    out["points_ledger"] = L

    hist = [(s.account, h) for s in states for h in s.history]
    H = Columns("tier_history")
    H["id"] = np.arange(1, len(hist) + 1, dtype=np.int64)
    H["loyalty_account_id"] = np.array([a for a, _ in hist], dtype=np.int64)
    H["from_tier"] = object_column([h[0] for _, h in hist])
    H["to_tier"] = object_column([h[1] for _, h in hist])
    H["points_at_change"] = np.array([h[2] for _, h in hist], dtype=np.int64)
    H["stays_at_change"] = np.array([h[3] for _, h in hist], dtype=np.int64)
    H["nights_at_change"] = np.array([h[4] for _, h in hist], dtype=np.int64)
    H["spend_at_change"] = np.array([h[5] for _, h in hist], dtype=np.int64)
    H["reason"] = object_column([h[6] for _, h in hist])
    H["changed_at"] = _ts([h[7] for _, h in hist])
    H["valid_from"] = _ts([h[7] for _, h in hist])
    nxt = [hist[k + 1][1][7] if k + 1 < len(hist) and hist[k + 1][0] == hist[k][0] else None for k in range(len(hist))]
    H["valid_until"] = _ts(nxt)
    out["tier_history"] = H

    R = Columns("redemption_transactions")
    red = rep.redemptions
    R["id"] = np.array([r["id"] for r in red], dtype=np.int64)
    R["item_id"] = np.array([r["item_id"] for r in red], dtype=np.int64)
    R["loyalty_account_id"] = np.array([r["account"] for r in red], dtype=np.int64)
    R["booking_id"] = object_column([r.get("booking") for r in red])
    R["points_redeemed"] = np.array([r["points"] for r in red], dtype=np.int64)
    R["status"] = object_column([r["status"] for r in red])
    R["redeemed_at"] = _ts([r["redeemed_at"] for r in red])
    R["expires_at"] = _ts([r["expires_at"] for r in red])
    R["used_at"] = _ts([r["used_at"] for r in red])
    R["cancelled_at"] = _ts([r["cancelled_at"] for r in red])
    out["redemption_transactions"] = R

    F = Columns("referrals")
    codes = scrambled_codes(np.array([r["id"] for r in referrals], dtype=np.int64), 8, salt=101)
    F["id"] = np.array([r["id"] for r in referrals], dtype=np.int64)
    F["referrer_id"] = np.array([r["referrer"] for r in referrals], dtype=np.int64)
    F["referred_id"] = object_column([r["referred"] for r in referrals])
    F["referral_code"] = object_column([f"REF-{c}" for c in codes])
    F["referred_email"] = object_column([r["email"] for r in referrals])
    F["status"] = object_column([r["status"] for r in referrals])
    reward = int(plan.profile.members.get("referral_reward", 750))
    F["referrer_reward_points"] = np.full(len(referrals), reward, dtype=np.int64)
    F["referred_reward_points"] = np.full(len(referrals), reward, dtype=np.int64)
    F["referred_at"] = _ts([r["referred_at"] for r in referrals])
    F["signed_up_at"] = _ts([r["signed_up_at"] for r in referrals])
    F["completed_at"] = _ts([r["completed_at"] for r in referrals])
    F["expires_at"] = _ts([r["expires_at"] for r in referrals])
    out["referrals"] = F

    T = Columns("tier_transfers")
    T["id"] = np.array([t["id"] for t in transfers], dtype=np.int64)
    T["from_account_id"] = np.array([t["sender"] + 1 for t in transfers], dtype=np.int64)
    T["to_account_id"] = np.array([t["receiver"] + 1 for t in transfers], dtype=np.int64)
    T["from_tier"] = object_column([t["from_tier"] for t in transfers])
    T["to_tier"] = object_column([t["to_tier"] for t in transfers])
    T["points_deduction"] = np.array([t["deduction"] for t in transfers], dtype=np.int64)
    T["transfer_fee"] = np.zeros(len(transfers), dtype=np.int64)
    T["status"] = object_column([t["status"] for t in transfers])
    T["requested_at"] = _ts([t["requested_at"] for t in transfers])
    T["completed_at"] = _ts([t["completed_at"] for t in transfers])
    out["tier_transfers"] = T

    out["perk_redemptions"] = _perks(plan, world, facts, states)
    return out


def _perks(plan, world, facts, states) -> Columns:
    """Perks used on members' own stays, when the tier at that moment allows them (inv. 18)."""
    timelines = {s.account: [(h[7], h[1]) for h in s.history] for s in states}
    st = plan.root.child("loyalty", "perks")
    rows = []
    used_by: dict[tuple[int, int], int] = {}
    for b in np.flatnonzero(facts.loyalty_linked):
        status = facts.status[b]
        if status in ("HOLD", "PENDING", "FAILED", "REJECTED"):
            continue
        if st.uniform(int(facts.id[b]), 0) > 0.5:
            continue
        account = int(facts.member[b]) + 1
        if facts.checked_in_at[b] < NEVER:
            at = int(facts.checked_in_at[b]) + 1800
            if facts.checked_out_at[b] < NEVER:
                at = min(at, int(facts.checked_out_at[b]))
            at = min(at, plan.as_of)
        else:
            at = int(facts.confirmed_at[b]) + 60 if facts.confirmed_at[b] < NEVER else int(facts.created_at[b]) + 60
            at = min(at, plan.as_of)
        tier = timeline_tier(timelines[account], at)
        eligible = [p for p in world.perks if RANK[p["min_tier"]] <= RANK[tier]
                    and used_by.get((account, p["id"]), 0) < p["per_member_cap"]]
        if not eligible:
            continue
        perk = eligible[int(st.uniform(int(facts.id[b]), 1) * len(eligible)) % len(eligible)]
        used_by[(account, perk["id"])] = used_by.get((account, perk["id"]), 0) + 1
        pstatus = {"CHECKED_OUT": "USED", "COMPLETED": "USED", "CHECKED_IN": "USED", "CONFIRMED": "ACTIVE",
                   "CANCELLED": "CANCELLED", "NO_SHOW": "EXPIRED"}[status]
        amount = (perk.get("value") or {}).get("amount")
        rows.append((perk["id"], account, int(facts.id[b]), pstatus, at, int(amount * 100) if amount else None))
    P = Columns("perk_redemptions")
    P["id"] = np.arange(1, len(rows) + 1, dtype=np.int64)
    P["perk_id"] = np.array([r[0] for r in rows], dtype=np.int64)
    P["loyalty_account_id"] = np.array([r[1] for r in rows], dtype=np.int64)
    P["booking_id"] = object_column([r[2] for r in rows])
    P["status"] = object_column([r[3] for r in rows])
    P["redeemed_at"] = _ts([r[4] for r in rows])
    P["value_applied"] = object_column([r[5] for r in rows])
    return P
