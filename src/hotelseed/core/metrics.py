"""Realism metrics: one shape for every module, in the manner of SDMetrics' column-shape scores.

A metric compares a generated marginal with a reference one and scores the match in [0, 1]:
- a distribution (categorical, or numbers put into the reference's bins): 1 − total-variation distance,
  TVD = ½ Σ |p_generated − p_reference| (SDMetrics TVComplement);
- a rate (a share of rows with some property): 1 − |generated − reference|.
The core knows nothing of hotels: modules compute the generated values and bring their own references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Score:
    module: str
    group: str  # the population compared, e.g. a hotel kind
    metric: str
    kind: str  # "distribution" | "rate"
    generated: dict[str, float] | float
    reference: dict[str, float] | float
    score: float
    rows: int  # rows of generated data the metric looked at
    note: str = ""

    def worst(self) -> str:
        """The category that differs most, e.g. '365+: 0.4% vs 3.5%' (a distribution's headline)."""
        if self.kind == "rate":
            return ""
        g, r = self.generated, self.reference
        key = max(r, key=lambda k: abs(g.get(k, 0.0) - r[k]))
        return f"{key}: {100 * g.get(key, 0.0):.1f}% vs {100 * r[key]:.1f}%"

    def as_json(self) -> dict:
        return {"module": self.module, "group": self.group, "metric": self.metric, "kind": self.kind,
                "generated": self.generated, "reference": self.reference, "score": round(self.score, 4),
                "rows": self.rows, "note": self.note}


def normalise(shares: dict[str, float]) -> dict[str, float]:
    total = float(sum(shares.values()))
    return {k: (float(v) / total if total else 0.0) for k, v in shares.items()}


def tvd_score(generated: dict[str, float], reference: dict[str, float]) -> float:
    """1 − TVD over the union of categories; both sides are normalised first."""
    g, r = normalise(generated), normalise(reference)
    keys = set(g) | set(r)
    return 1.0 - 0.5 * sum(abs(g.get(k, 0.0) - r.get(k, 0.0)) for k in keys)


def rate_score(generated: float, reference: float) -> float:
    return 1.0 - abs(float(generated) - float(reference))


def shares_of(labels: np.ndarray, categories: list[str], weights: np.ndarray | None = None) -> dict[str, float]:
    """Share of each category among `labels` (weighted when weights are given); absent categories get 0."""
    labels = np.asarray(labels, dtype=object)
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=float)
    total = float(w.sum())
    return {c: (float(w[labels == c].sum()) / total if total else 0.0) for c in categories}


def bin_labels(values: np.ndarray, edges: list[tuple[str, float | None, float | None]]) -> np.ndarray:
    """Label each value by the first bin (label, low, high) with low <= value <= high (None = open end)."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), "", dtype=object)
    for label, low, high in edges:
        m = (out == "") & (values >= (-np.inf if low is None else low)) & (values <= (np.inf if high is None else high))
        out[m] = label
    return out


@dataclass
class RealismReport:
    scores: list[Score] = field(default_factory=list)

    @property
    def overall(self) -> float:
        return float(np.mean([s.score for s in self.scores])) if self.scores else 0.0

    def group_overall(self, group: str) -> float:
        vals = [s.score for s in self.scores if s.group == group]
        return float(np.mean(vals)) if vals else 0.0

    @property
    def weakest(self) -> Score | None:
        return min(self.scores, key=lambda s: s.score) if self.scores else None

    def as_json(self) -> dict:
        groups = sorted({s.group for s in self.scores})
        return {"overall": round(self.overall, 4), "groups": {g: round(self.group_overall(g), 4) for g in groups},
                "metrics": [s.as_json() for s in self.scores]}
