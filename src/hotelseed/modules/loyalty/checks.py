"""Loyalty invariants (platform.md §4.3 inv. 13-20, §4.5 member chronology)."""

from __future__ import annotations

import json
from collections import defaultdict

from hotelseed.core.checks import Check, cents, epoch, fetch
from hotelseed.modules.bookings.models import OTA_SOURCES
from hotelseed.modules.loyalty.generate import RANK, earned_tier, year_of

M = "loyalty"
OTA = "(" + ", ".join(f"'{s}'" for s in OTA_SOURCES) + ")"


def _tiers(conn) -> list[dict]:
    rows = fetch(conn, f"SELECT tier, rank, min_points, min_stays, min_nights, {cents('min_spend')}, base_points_per_100 "
                       "FROM tier_configs ORDER BY rank")
    return [dict(tier=r[0], rank=r[1], min_points=r[2], min_stays=r[3], min_nights=r[4], min_spend=r[5], rate=r[6]) for r in rows]


def _history(conn) -> dict[int, list]:
    d = conn.dialect.name
    out = defaultdict(list)
    for acc, frm, to, reason, at, until in fetch(conn, f"SELECT loyalty_account_id, from_tier, to_tier, reason, "
                                                       f"{epoch(d, 'valid_from')}, {epoch(d, 'valid_until')} FROM tier_history "
                                                       f"ORDER BY loyalty_account_id, valid_from, id"):
        out[acc].append((frm, to, reason, at, until))
    return out


def _tier_at(hist: list, at: int, before: bool = False) -> str:
    """The tier in force at `at`; with before=True, just before it (an EARN precedes the upgrade it causes)."""
    tier = None
    for _frm, to, _r, t0, _u in hist:
        if t0 < at or (t0 == at and not before):
            tier = to
    return tier


def _earn_rows(conn, params):
    """EARN = ⌊total/100 × rate(tier in force at check-out)⌋ × rule multipliers, at the tier of tier_history."""
    d = conn.dialect.name
    tiers = {t["tier"]: t for t in _tiers(conn)}
    rules = {r[0]: float(r[1]) for r in fetch(conn, "SELECT code, multiplier FROM points_rules")}
    hist = _history(conn)
    rows = fetch(conn, f"SELECT l.id, l.loyalty_account_id, l.points, l.metadata, {epoch(d, 'l.created_at')}, "
                       f"{cents('b.total_price')}, b.source, b.nights FROM points_ledger l JOIN bookings b ON b.id = l.booking_id "
                       "WHERE l.type = 'EARN'")
    bad = []
    for lid, acc, pts, meta, at, total, source, nights in rows:
        meta = json.loads(meta) if isinstance(meta, str) else meta
        tier = _tier_at(hist.get(acc, []), at, before=True)
        mult = 1.0
        for code in meta.get("rules", []):
            mult *= rules.get(code, float("nan"))
        base = total * tiers[tier]["rate"] // 10_000 if tier else -1
        expect_direct = source == "WEB_DIRECT"
        if (tier != meta.get("tier") or base != meta.get("base") or abs(mult - meta.get("multiplier", 0)) > 1e-3
                or pts != int(base * mult + 1e-9)
                or ("DIRECT" in rules and ("DIRECT" in meta.get("rules", [])) != expect_direct)
                or ("LONG_STAY" in rules and ("LONG_STAY" in meta.get("rules", [])) != (nights >= 5))):
            bad.append(lid)
    return len(rows), bad


def _tier_earned(conn, params):
    """The account's tier is what its metrics earn: max(last calendar year, this year so far), OR semantics;
    only a gifted (TRANSFER) or MANUAL_ADJUSTMENT open row may differ (inv. 16)."""
    d = conn.dialect.name
    as_of = params["as_of"]
    year = year_of(as_of)
    tiers = _tiers(conn)
    metrics = defaultdict(lambda: [0, 0, 0, 0])  # (account, year) → points, stays, nights, spend
    for acc, at, nights, total in fetch(conn, f"SELECT loyalty_account_id, {epoch(d, 'checked_out_at')}, nights, "
                                              f"{cents('total_price')} FROM bookings WHERE status IN ('CHECKED_OUT','COMPLETED') "
                                              "AND loyalty_account_id IS NOT NULL"):
        m = metrics[(acc, year_of(at))]
        m[1] += 1
        m[2] += nights
        m[3] += total
    for acc, at, pts in fetch(conn, f"SELECT loyalty_account_id, {epoch(d, 'created_at')}, points FROM points_ledger "
                                    "WHERE type IN ('EARN','BONUS')"):
        metrics[(acc, year_of(at))][0] += pts
    hist = _history(conn)
    rows = fetch(conn, "SELECT id, tier FROM loyalty_accounts")
    bad = []
    for acc, tier in rows:
        open_rows = [h for h in hist.get(acc, []) if h[4] is None]
        if open_rows and open_rows[0][2] in ("TRANSFER", "MANUAL_ADJUSTMENT"):
            continue
        want = max(earned_tier(tiers, *metrics[(acc, year - 1)]), earned_tier(tiers, *metrics[(acc, year)]), key=RANK.get)
        if want != tier:
            bad.append(acc)
    return len(rows), bad


def _history_chain(conn, params):
    """ENROLLMENT (NULL → MEMBER) at enrolled_at; from = previous to; valid_from = previous valid_until; one open
    row whose to_tier = the account's tier (inv. 17)."""
    d = conn.dialect.name
    hist = _history(conn)
    rows = fetch(conn, f"SELECT id, tier, {epoch(d, 'enrolled_at')} FROM loyalty_accounts")
    bad = []
    for acc, tier, enrolled in rows:
        h = hist.get(acc, [])
        ok = bool(h) and h[0][0] is None and h[0][2] == "ENROLLMENT" and h[0][1] == "MEMBER" and h[0][3] == enrolled
        for a, b in zip(h, h[1:]):
            ok &= b[0] == a[1] and a[4] == b[3]
        ok &= bool(h) and h[-1][4] is None and h[-1][1] == tier and sum(1 for x in h if x[4] is None) == 1
        if not ok:
            bad.append(acc)
    return len(rows), bad


def _perks(conn, params):
    """A perk is used at a tier ≥ its min_tier, on the member's own booking, between booking and check-out (inv. 18)."""
    d = conn.dialect.name
    hist = _history(conn)
    caps = defaultdict(int)
    rows = fetch(conn, f"SELECT r.id, r.loyalty_account_id, {epoch(d, 'r.redeemed_at')}, p.min_tier, p.id, p.per_member_cap, "
                       f"b.loyalty_account_id, {epoch(d, 'b.created_at')}, {epoch(d, 'b.checked_out_at')} FROM perk_redemptions r "
                       "JOIN perks p ON p.id = r.perk_id LEFT JOIN bookings b ON b.id = r.booking_id")
    bad = []
    for rid, acc, at, min_tier, pid, cap, b_acc, b_created, b_out in rows:
        tier = _tier_at(hist.get(acc, []), at)
        caps[(acc, pid)] += 1
        if tier is None or RANK[tier] < RANK[min_tier] or (b_acc is not None and (b_acc != acc or at < b_created or
                                                                                  (b_out is not None and at > b_out))) \
                or at > params["as_of"] or caps[(acc, pid)] > cap:
            bad.append(rid)
    return len(rows), bad


def _transfers(conn, params):
    """Tier gifts: the sender held from_tier at requested_at (PLATINUM/DIAMOND), to ≤ from; a COMPLETED gift
    gives the receiver a TRANSFER history row at completed_at (inv. 20)."""
    d = conn.dialect.name
    hist = _history(conn)
    rows = fetch(conn, f"SELECT id, from_account_id, to_account_id, from_tier, to_tier, status, {epoch(d, 'requested_at')}, "
                       f"{epoch(d, 'completed_at')}, points_deduction FROM tier_transfers")
    deductions = {json.loads(m)["transfer_id"] if isinstance(m, str) else m["transfer_id"]: p
                  for m, p in fetch(conn, "SELECT metadata, points FROM points_ledger WHERE type = 'TRANSFER'")}
    bad = []
    for tid, frm, to, ft, tt, st, req, done, deduction in rows:
        ok = frm != to and RANK[tt] <= RANK[ft] and ft in ("PLATINUM", "DIAMOND") and _tier_at(hist.get(frm, []), req) == ft
        if st == "COMPLETED":
            ok &= any(h[2] == "TRANSFER" and h[3] == done and h[1] == tt for h in hist.get(to, [])) or \
                RANK[_tier_at(hist.get(to, []), done) or "MEMBER"] >= RANK[tt]
            ok &= (deduction == 0) or deductions.get(tid) == -deduction
        if not ok:
            bad.append(tid)
    return len(rows), bad


CHECKS = [
    Check("accounts.metrics_from_bookings", "§4.3 inv. 13", M,
          "lifetime stays/nights/spend = checked-out (or completed) bookings credited to the account",
          "SELECT count(*) FROM loyalty_accounts",
          "SELECT a.id FROM loyalty_accounts a LEFT JOIN (SELECT loyalty_account_id, count(*) AS s, sum(nights) AS n, "
          f"sum({cents('total_price')}) AS sp FROM bookings WHERE status IN ('CHECKED_OUT','COMPLETED') AND "
          "loyalty_account_id IS NOT NULL GROUP BY loyalty_account_id) m ON m.loyalty_account_id = a.id WHERE "
          f"a.lifetime_stays <> coalesce(m.s, 0) OR a.lifetime_nights <> coalesce(m.n, 0) OR {cents('a.lifetime_spend')} <> coalesce(m.sp, 0)"),
    Check("ledger.running_balance", "§4.3 inv. 14", M,
          "the ledger is a gap-free running balance from 0 whose sum is the account's points_balance",
          "SELECT count(*) FROM points_ledger",
          "SELECT 'ledger:' || id FROM (SELECT id, balance_before, LAG(balance_after) OVER (PARTITION BY loyalty_account_id "
          "ORDER BY created_at, id) AS prev, ROW_NUMBER() OVER (PARTITION BY loyalty_account_id ORDER BY created_at, id) AS rn "
          "FROM points_ledger) x WHERE (rn = 1 AND balance_before <> 0) OR (rn > 1 AND balance_before <> prev) "
          "UNION ALL SELECT 'account:' || a.id FROM loyalty_accounts a WHERE a.points_balance <> coalesce((SELECT sum(points) "
          "FROM points_ledger l WHERE l.loyalty_account_id = a.id), 0) "
          "UNION ALL SELECT 'ledger-user:' || l.id FROM points_ledger l JOIN loyalty_accounts a ON a.id = l.loyalty_account_id "
          "WHERE l.user_id <> a.user_id"),
    Check("ledger.earn_per_stay", "§4.3 inv. 15", M,
          "one EARN per own checked-out non-OTA booking, dated at or after check-out; none for others",
          "SELECT count(*) FROM points_ledger WHERE type = 'EARN'",
          lambda d: "SELECT 'ledger:' || l.id FROM points_ledger l JOIN bookings b ON b.id = l.booking_id WHERE l.type = 'EARN' AND "
          f"(b.status NOT IN ('CHECKED_OUT','COMPLETED') OR b.loyalty_account_id IS NULL OR b.loyalty_account_id <> l.loyalty_account_id "
          f"OR b.source IN {OTA} OR l.created_at < b.checked_out_at) "
          "UNION ALL SELECT 'booking:' || b.id FROM bookings b WHERE b.status IN ('CHECKED_OUT','COMPLETED') AND b.loyalty_account_id "
          "IS NOT NULL AND (SELECT count(*) FROM points_ledger l WHERE l.booking_id = b.id AND l.type = 'EARN') <> 1"),
    Check("ledger.earn_amount_and_tier", "§4.3 inv. 15", M,
          "EARN points = ⌊total/100 × rate of the tier in force⌋ × rule multipliers", fn=_earn_rows),
    Check("ledger.redemptions_paired", "§4.3 inv. 15", M,
          "each redemption has one REDEEM row for its points; a cancelled one also a REVERSAL, others none",
          "SELECT count(*) FROM redemption_transactions",
          # One grouped join, not a count per redemption: points_ledger.redemption_id has no index, and a
          # correlated count scanned the whole ledger once per redemption (both grow with the members: xlarge
          # 12.5 s, 15× large's time for 3.3× the rows).
          "SELECT r.id FROM redemption_transactions r LEFT JOIN points_ledger l ON l.redemption_id = r.id "
          "GROUP BY r.id, r.points_redeemed, r.status HAVING "
          "SUM(CASE WHEN l.type = 'REDEEM' AND l.points = -r.points_redeemed THEN 1 ELSE 0 END) <> 1 "
          "OR SUM(CASE WHEN l.type = 'REVERSAL' AND l.points = r.points_redeemed THEN 1 ELSE 0 END) "
          "<> CASE WHEN r.status = 'CANCELLED' THEN 1 ELSE 0 END"),
    Check("accounts.tier_earned", "§4.3 inv. 16", M,
          "tier = the highest tier whose any threshold is met by last year's or this year's metrics", fn=_tier_earned),
    Check("tier_history.chain", "§4.3 inv. 17", M, "tier history is a chain from enrolment to the current tier",
          fn=_history_chain),
    Check("tier_history.upgrades_meet_rule", "§4.3 inv. 17", M,
          "each AUTO_UPGRADE row's metrics meet a threshold of the tier it reached",
          "SELECT count(*) FROM tier_history WHERE reason = 'AUTO_UPGRADE'",
          "SELECT h.id FROM tier_history h JOIN tier_configs t ON t.tier = h.to_tier WHERE h.reason = 'AUTO_UPGRADE' AND NOT ("
          "(t.min_points > 0 AND h.points_at_change >= t.min_points) OR (t.min_stays > 0 AND h.stays_at_change >= t.min_stays) OR "
          f"(t.min_nights > 0 AND h.nights_at_change >= t.min_nights) OR (t.min_spend > 0 AND {cents('h.spend_at_change')} >= {cents('t.min_spend')}))"),
    Check("perks.tier_and_booking", "§4.3 inv. 18", M,
          "perks used at an eligible tier, on the member's own booking, within the stay, within caps", fn=_perks),
    Check("referrals.consistent", "§4.3 inv. 19", M,
          "referrer ≠ referred; referred enrolled at signed_up_at; COMPLETED at the first check-out with REFERRAL rows; "
          "EXPIRED only when unused past expiry",
          "SELECT count(*) FROM referrals",
          # The REFERRAL rows counted by one grouped pass (points_ledger.referral_id has no index: a count per
          # referral scanned the ledger each time).
          lambda d: "SELECT r.id FROM referrals r LEFT JOIN loyalty_accounts a ON a.id = r.referred_id LEFT JOIN users u ON u.id = a.user_id "
          "LEFT JOIN (SELECT referral_id, count(*) AS n FROM points_ledger WHERE type = 'REFERRAL' GROUP BY referral_id) rl "
          "ON rl.referral_id = r.id "
          "WHERE r.referrer_id = r.referred_id "
          "OR (r.referred_id IS NOT NULL AND (r.signed_up_at IS NULL OR a.enrolled_at <> r.signed_up_at OR u.created_at > r.signed_up_at "
          f"OR r.signed_up_at < r.referred_at OR {epoch(d, 'r.signed_up_at')} > :as_of)) "
          "OR (r.status = 'COMPLETED' AND (r.completed_at IS NULL OR r.completed_at <> (SELECT min(b.checked_out_at) FROM bookings b "
          "WHERE b.loyalty_account_id = r.referred_id AND b.status IN ('CHECKED_OUT','COMPLETED')) OR coalesce(rl.n, 0) <> 2)) "
          "OR (r.status = 'SIGNED_UP' AND (r.referred_id IS NULL OR EXISTS (SELECT 1 FROM bookings b WHERE b.loyalty_account_id = "
          "r.referred_id AND b.status IN ('CHECKED_OUT','COMPLETED')))) "
          f"OR (r.status = 'EXPIRED' AND (r.referred_id IS NOT NULL OR {epoch(d, 'r.expires_at')} >= :as_of)) "
          f"OR (r.status = 'PENDING' AND (r.referred_id IS NOT NULL OR {epoch(d, 'r.expires_at')} < :as_of))"),
    Check("transfers.consistent", "§4.3 inv. 20", M,
          "tier gifts by PLATINUM/DIAMOND holders, to ≤ from, applied to the receiver when completed", fn=_transfers),
    Check("members.chronology", "§4.5", M,
          "users.created_at ≤ enrolled_at ≤ the first credited booking; everything ≤ as_of",
          "SELECT count(*) FROM loyalty_accounts",
          lambda d: "SELECT a.id FROM loyalty_accounts a JOIN users u ON u.id = a.user_id WHERE u.created_at > a.enrolled_at "
          f"OR {epoch(d, 'a.enrolled_at')} > :as_of OR EXISTS (SELECT 1 FROM bookings b WHERE b.loyalty_account_id = a.id AND "
          "b.created_at < a.enrolled_at) UNION SELECT l.loyalty_account_id FROM points_ledger l WHERE "
          f"{epoch(d, 'l.created_at')} > :as_of"),
]
