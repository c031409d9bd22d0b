"""Seeded random streams.

Two kinds, both derived from (seed, path) with a stable hash, so that no stream depends on the order in
which others were used:

* ``Stream.generator()`` gives a NumPy ``Generator`` for bulk draws whose count is fixed by the plan
  (for example the demand of one property);
* ``Stream.uniform(index, slot)`` is counter based: the value for entity ``index`` and draw ``slot`` is a
  pure function of (seed, path, index, slot). Entity *i* therefore keeps its attributes when more entities
  are added, and the draws are vectorised over any index array.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def stable_hash64(*parts: object) -> int:
    """A 64-bit hash of the parts' text that is the same on every machine and Python run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection on uint64 with good avalanche (Steele et al., 2014)."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class Stream:
    seed: int
    path: tuple[str, ...] = ()

    def child(self, *names: object) -> "Stream":
        return Stream(self.seed, self.path + tuple(str(n) for n in names))

    @property
    def key(self) -> int:
        return stable_hash64(self.seed, *self.path)

    def generator(self) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.key)))

    def bits(self, index: np.ndarray | int, slot: int = 0) -> np.ndarray:
        idx = np.asarray(index, dtype=np.uint64)
        with np.errstate(over="ignore"):
            key = np.uint64(self.key) ^ (np.uint64(slot + 1) * _GOLDEN)
            return _mix64(_mix64(idx * _GOLDEN + key) ^ key)

    def uniform(self, index: np.ndarray | int, slot: int = 0) -> np.ndarray:
        """Uniform in [0, 1), 53-bit, one value per index, a pure function of (stream, index, slot)."""
        return (self.bits(index, slot) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def normal(self, index: np.ndarray | int, slot: int = 0) -> np.ndarray:
        """Standard normal per index (Box-Muller on two counter-based uniforms)."""
        u1 = 1.0 - self.uniform(index, 2 * slot)
        u2 = self.uniform(index, 2 * slot + 1)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    def integers(self, index: np.ndarray | int, high: int | np.ndarray, slot: int = 0) -> np.ndarray:
        return np.floor(self.uniform(index, slot) * high).astype(np.int64)

    def choice(self, index: np.ndarray | int, weights, slot: int = 0) -> np.ndarray:
        return sample_categorical(self.uniform(index, slot), weights)


def sample_categorical(u: np.ndarray, weights) -> np.ndarray:
    """Map uniforms to category indices with the given (unnormalised) weights by inverse CDF."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, u, side="right").clip(0, len(w) - 1)


def choose(mix: dict, u: np.ndarray) -> np.ndarray:
    """Keys of a {key: weight} mix, one per uniform, by inverse CDF (zero-weight keys are never chosen)."""
    keys = [k for k, v in mix.items() if v > 0]
    return np.array(keys, dtype=object)[sample_categorical(u, [mix[k] for k in keys])]
