"""Contacts that can never reach a person: fictional phone numbers by scheme, reserved e-mail domains."""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np

from hotelseed.core.errors import UsageError

# Scheme → (prefix, digits of the running number). Each number is unique per (category, index).
#  IN_TRUNK_ZERO: +91 0C NNNNNNNN. An Indian national significant number never starts with 0 (the trunk
#  prefix), so no such number is or can be assigned: it is E.164-shaped yet unroutable.
#  PT_LEADING_ZERO: +351 0C NNNNNNN. Portugal's closed 9-digit plan (ANACOM, 31 Oct 1999) starts every
#  national number with 2-9 (2 fixed, 6 data, 7 private, 8 free/shared cost, 9 mobile); 0 was abolished,
#  so no number starting with 0 can be assigned.
SCHEMES = {"IN_TRUNK_ZERO": ("+910", 8), "PT_LEADING_ZERO": ("+3510", 7)}
CATEGORIES = {"property": 1, "staff": 2, "member": 3, "guest": 4}


def phone_numbers(scheme: str, category: str, index: np.ndarray) -> np.ndarray:
    if scheme not in SCHEMES:
        raise UsageError(f"unknown phone_scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    prefix, digits = SCHEMES[scheme]
    cat = CATEGORIES[category]
    idx = np.asarray(index, dtype=np.int64)
    capacity = 10**digits if category != "guest" else 6 * 10**digits
    if len(idx) and (idx.min() < 0 or idx.max() >= capacity):
        raise UsageError(f"phone scheme {scheme} has room for {capacity} {category} numbers")
    if category == "guest":
        cat_digit = cat + idx // 10**digits
        idx = idx % 10**digits
    else:
        cat_digit = np.full(len(idx), cat)
    return np.array([f"{prefix}{c}{i:0{digits}d}" for c, i in zip(cat_digit.tolist(), idx.tolist())], dtype=object)


def is_fictional_phone(scheme: str, phone: str) -> bool:
    prefix, digits = SCHEMES[scheme]
    return bool(re.fullmatch(re.escape(prefix) + r"[1-9]\d{%d}" % digits, phone or ""))


_SLUG_PART = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=65536)  # names come from pools: the same few thousand, over and over
def ascii_slug(text: str) -> str:
    """'Zoë O'Brien' → 'zoe.o.brien': e-mail local parts from names of any locale."""
    if not text.isascii():  # NFKD leaves ASCII as it is: only other text needs it
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    norm = text.lower()
    parts = _SLUG_PART.findall(norm)
    return ".".join(parts) or "guest"
