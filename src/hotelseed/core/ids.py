"""Deterministic identifiers: no database sequences or random UUIDs while seeding."""

from __future__ import annotations

import hashlib
import uuid

import numpy as np

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def uuid_for(seed: int, kind: str, key: object) -> uuid.UUID:
    """A version-4-shaped UUID that is a pure function of (seed, kind, key)."""
    raw = bytearray(hashlib.blake2b(f"{seed}\x1f{kind}\x1f{key}".encode(), digest_size=16).digest())
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))


def uuids_for(seed: int, kind: str, keys) -> list[uuid.UUID]:
    return [uuid_for(seed, kind, k) for k in keys]


def scrambled_codes(ids: np.ndarray, length: int = 7, salt: int = 0) -> np.ndarray:
    """Unique, unguessable-looking base-32 codes from integer ids.

    An odd multiplier modulo 32**length is a bijection, so distinct ids (< 32**length) give distinct codes.
    """
    modulus = 32**length
    mult = (0x5DEECE66D | 1) % modulus
    x = (np.asarray(ids, dtype=object) * mult + salt) % modulus
    out = []
    for v in x:
        v = int(v)
        chars = []
        for _ in range(length):
            chars.append(_CROCKFORD[v & 31])
            v >>= 5
        out.append("".join(reversed(chars)))
    return np.array(out, dtype=object)
