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
    """
    n = len(arrival)
    n_types = len(type_rank)
    occupied = np.zeros((len(room_type_of_room), n_days), dtype=bool)
    sold = np.zeros((n_types, n_days), dtype=np.int32)
    rooms_of_type = [np.flatnonzero(room_type_of_room == t) for t in range(n_types)]
    better = [[u for u in np.argsort(type_rank, kind="stable") if type_rank[u] > type_rank[t]] for t in range(n_types)]
    placed = np.full((n, max_rooms), -1, dtype=np.int64)
    accepted = np.zeros(n, dtype=bool)
    on_books = np.zeros(n)
    upgrade = np.zeros(n, dtype=bool) if upgrade is None else upgrade
    # Rooms of each type physically taken (by its own guests and by guests upgraded into it).
    taken = np.zeros((n_types, n_days), dtype=np.int32)
    placed_type = np.full((n, max_rooms), -1, dtype=np.int64)
    # Events: bookings at booked_at, releases at released_at; releases first when simultaneous.
    times = np.concatenate([booked_at, released_at])
    kinds = np.concatenate([np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)])
    who = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((who, kinds, times))
    never = np.iinfo(np.int64).max // 2
    # Python scalars in the event loop: indexing NumPy arrays one element at a time is the slow part.
    arrival_l, nights_l, type_l, rooms_l = arrival.tolist(), nights.tolist(), room_type.tolist(), rooms.tolist()
    released_l, pick_l, upgrade_l = released_at.tolist(), pick.tolist(), upgrade.tolist()
    cap_l = [max(int(c), 1) for c in sellable]
    who_l, kinds_l = who[order].tolist(), kinds[order].tolist()
    for b, kind in zip(who_l, kinds_l):
        a = arrival_l[b] - first_day
        z = a + nights_l[b]
        t = type_l[b]
        if kind == 0:
            if released_l[b] >= never or not accepted[b]:
                continue
            for slot, r in enumerate(placed[b].tolist()):
                if r >= 0:
                    occupied[r, a:z] = False
                    taken[placed_type[b, slot], a:z] -= 1
            sold[t, a:z] -= rooms_l[b]
            continue
        need = rooms_l[b]
        booked = sold[t, a:z]
        on_books[b] = int(booked.sum()) / ((z - a) * cap_l[t])
        if int(booked.max()) + need > sellable[t]:
            continue
        chosen: list[int] = []
        candidates = [t, *better[t]]
        if upgrade_l[b] and better[t]:
            spare = [v for v in better[t] if ((np.maximum(sold[v, a:z], taken[v, a:z]) + need) <= sellable[v]).all()]
            candidates = [*spare[:1], t, *[v for v in better[t] if v not in spare[:1]]]
        for cand_type in candidates:
            cand = rooms_of_type[cand_type]
            free = cand[~occupied[cand, a:z].any(axis=1)]
            if need - len(chosen) == 1 and len(free):  # the common case: one room, no list surgery
                chosen.append(int(free[int(pick_l[b] * len(free)) % len(free)]))
                break
            while len(free) and len(chosen) < need:
                k = int(pick_l[b] * len(free)) % len(free)
                chosen.append(int(free[k]))
                free = np.delete(free, k)
            if len(chosen) == need:
                break
        if len(chosen) < need:
            continue
        for slot, r in enumerate(chosen):
            occupied[r, a:z] = True
            placed[b, slot] = r
            placed_type[b, slot] = room_type_of_room[r]
            taken[room_type_of_room[r], a:z] += 1
        sold[t, a:z] += need
        accepted[b] = True
    return accepted, placed, on_books
