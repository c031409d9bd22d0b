"""The loyalty programme's realism metric: the tier mix that came out of the replayed stays against the
mix the profile aims for (members.tier_mix). Tiers are never assigned; this measures how close the
behaviour lands."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from hotelseed.core.checks import fetch
from hotelseed.core.metrics import Score, tvd_score
from hotelseed.profile import TIERS


def tier_mix(conn: Connection) -> dict[str, int]:
    counts = {t: 0 for t in TIERS}
    for tier, n in fetch(conn, "SELECT tier, count(*) FROM loyalty_accounts GROUP BY tier"):
        counts[str(tier)] = int(n)
    return counts


def loyalty_scores(conn: Connection, profile) -> list[Score]:
    target = profile.members.get("tier_mix") if profile is not None else None
    if not target:
        return []
    counts = tier_mix(conn)
    total = sum(counts.values())
    if total == 0:
        return []
    generated = {t: counts[t] / total for t in TIERS}
    reference = {t: float(target.get(t, 0.0)) for t in TIERS}
    s = sum(reference.values())
    reference = {t: v / s for t, v in reference.items()}
    return [Score("loyalty", "ALL", "tier_mix", "distribution", generated, reference,
                  tvd_score(generated, reference), total, note=f"target from profile {profile.name}")]
