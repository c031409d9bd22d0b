"""Placing bookings into concrete rooms, in the order they were made.

A booking engine sells a room type only while its inventory has a free room on every night (sold <
sellable); the front desk then puts the guest into a free room of that type, or of a better type when the
booked type is fragmented (an upgrade). Some guests are upgraded by choice (the desk's upgrades, profile share): they go
into the next better type that still has a free room and unsold inventory on every night, so an
upgrade never takes a room the better type could still sell. Cancellations give the room back at the moment they happen, so a
later booking may take it. No two live stays ever share a room on a night: the calendar makes that so.
"""

from __future__ import annotations

import numpy as np


def allocate(n_days: int, first_day: int, room_type_of_room: np.ndarray, type_rank: np.ndarray,
             sellable: np.ndarray, arrival: np.ndarray, nights: np.ndarray, room_type: np.ndarray,
             rooms: np.ndarray, booked_at: np.ndarray, released_at: np.ndarray, pick: np.ndarray,
             max_rooms: int, upgrade: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (accepted mask, room index per booking and room slot [n, max_rooms] (-1 = none), share of the
    booked type's sellable rooms already sold on the stay's nights when the booking was made).

    `released_at` is the cancellation time of bookings that give their rooms back (else a huge number).

    The event loop is sequential by nature (each booking sees the ones before it), so it runs on Python
    scalars: each room type keeps, per night, a small integer bitmask of its occupied rooms (bit i = the type's
    i-th room, in room order), so the free rooms for a stay are the complement of the OR of its nights' masks —
    a few operations on one-word integers, where a bitmask of nights per room needed one operation on a
    ~1,300-bit integer per room of the type. Sold counts are lists, which for stays of a few nights is several
    times faster than NumPy slices.
    """
    n = len(arrival)
    n_types = len(type_rank)
    type_of_room = room_type_of_room.tolist()
    rooms_of_type = [np.flatnonzero(room_type_of_room == t).tolist() for t in range(n_types)]
    bit_of_room = [0] * len(type_of_room)  # a room's bit in its type's masks
    for t in range(n_types):
        for i, r in enumerate(rooms_of_type[t]):
            bit_of_room[r] = 1 << i
    all_rooms = [(1 << len(rooms_of_type[t])) - 1 for t in range(n_types)]
    order_by_rank = np.argsort(type_rank, kind="stable").tolist()
    rank_l = type_rank.tolist()
    better = [[v for v in order_by_rank if rank_l[v] > rank_l[t]] for t in range(n_types)]
    occupied = [[0] * n_days for _ in range(n_types)]  # per type and night: bit i set = the type's room i taken
    sold = [[0] * n_days for _ in range(n_types)]  # rooms of each type sold per night
    placed_rooms: dict[int, list[int]] = {}
    accepted = [False] * n
    on_books = [0.0] * n
    upgrade_l = [False] * n if upgrade is None else upgrade.tolist()
    # Events: bookings at booked_at, releases at released_at; releases first when simultaneous.
    times = np.concatenate([booked_at, released_at])
    kinds = np.concatenate([np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)])
    who = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((who, kinds, times))
    never = np.iinfo(np.int64).max // 2
    arrival_l, nights_l, type_l, rooms_l = arrival.tolist(), nights.tolist(), room_type.tolist(), rooms.tolist()
    released_l, pick_l = released_at.tolist(), pick.tolist()
    sellable_l = [int(c) for c in sellable]
    cap_l = [max(c, 1) for c in sellable_l]
    for b, kind in zip(who[order].tolist(), kinds[order].tolist()):
        a = arrival_l[b] - first_day
        z = a + nights_l[b]
        t = type_l[b]
        need = rooms_l[b]
        if kind == 0:
            if released_l[b] >= never or not accepted[b]:
                continue
            for r in placed_rooms[b]:
                oc, keep = occupied[type_of_room[r]], ~bit_of_room[r]
                for d in range(a, z):
                    oc[d] &= keep
            st = sold[t]
            for d in range(a, z):
                st[d] -= need
            continue
        st = sold[t]
        booked = st[a:z]
        on_books[b] = sum(booked) / ((z - a) * cap_l[t])
        if max(booked) + need > sellable_l[t]:
            continue
        chosen: list[int] = []
        candidates = [t, *better[t]]
        if upgrade_l[b] and better[t]:
            spare = [v for v in better[t]
                     if all(max(s_, k_.bit_count()) + need <= sellable_l[v]
                            for s_, k_ in zip(sold[v][a:z], occupied[v][a:z]))]
            candidates = [*spare[:1], t, *[v for v in better[t] if v not in spare[:1]]]
        p = pick_l[b]
        for cand_type in candidates:
            taken_mask = 0
            for m in occupied[cand_type][a:z]:
                taken_mask |= m
            free = all_rooms[cand_type] & ~taken_mask
            n_free = free.bit_count()
            while n_free and len(chosen) < need:
                i = _nth_set_bit(free, int(p * n_free) % n_free, n_free)
                free ^= 1 << i
                n_free -= 1
                chosen.append(rooms_of_type[cand_type][i])
            if len(chosen) == need:
                break
        if len(chosen) < need:
            continue
        for r in chosen:
            oc, bit = occupied[type_of_room[r]], bit_of_room[r]
            for d in range(a, z):
                oc[d] |= bit
        for d in range(a, z):
            st[d] += need
        placed_rooms[b] = chosen
        accepted[b] = True
    placed = np.full((n, max_rooms), -1, dtype=np.int64)
    for b, chosen in placed_rooms.items():
        placed[b, :len(chosen)] = chosen
    return np.array(accepted, dtype=bool), placed, np.array(on_books)


def _nth_set_bit(mask: int, k: int, count: int) -> int:
    """Position of the k-th (0-based, from the lowest) of the `count` set bits of `mask`: the k-th free room in
    room order. Clears bits from whichever end is nearer."""
    if 2 * k < count:
        for _ in range(k):
            mask &= mask - 1
        return (mask & -mask).bit_length() - 1
    for _ in range(count - 1 - k):
        mask ^= 1 << (mask.bit_length() - 1)
    return mask.bit_length() - 1
