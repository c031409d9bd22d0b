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
    scalars: a room's calendar is an integer bitmask of occupied nights (a stay is free iff mask & span == 0)
    and sold counts are lists, which for stays of a few nights is several times faster than NumPy slices.
    """
    n = len(arrival)
    n_types = len(type_rank)
    type_of_room = room_type_of_room.tolist()
    rooms_of_type = [np.flatnonzero(room_type_of_room == t).tolist() for t in range(n_types)]
    order_by_rank = np.argsort(type_rank, kind="stable").tolist()
    rank_l = type_rank.tolist()
    better = [[v for v in order_by_rank if rank_l[v] > rank_l[t]] for t in range(n_types)]
    busy = [0] * len(type_of_room)  # per room: bit d set = night d taken
    sold = [[0] * n_days for _ in range(n_types)]  # rooms of each type sold per night
    taken = [[0] * n_days for _ in range(n_types)]  # rooms of each type physically occupied (upgrades included)
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
            keep = ~(((1 << (z - a)) - 1) << a)
            for r in placed_rooms[b]:
                busy[r] &= keep
                tt = taken[type_of_room[r]]
                for d in range(a, z):
                    tt[d] -= 1
            st = sold[t]
            for d in range(a, z):
                st[d] -= need
            continue
        st = sold[t]
        booked = st[a:z]
        on_books[b] = sum(booked) / ((z - a) * cap_l[t])
        if max(booked) + need > sellable_l[t]:
            continue
        span = ((1 << (z - a)) - 1) << a
        chosen: list[int] = []
        candidates = [t, *better[t]]
        if upgrade_l[b] and better[t]:
            spare = [v for v in better[t]
                     if all(max(s_, k_) + need <= sellable_l[v] for s_, k_ in zip(sold[v][a:z], taken[v][a:z]))]
            candidates = [*spare[:1], t, *[v for v in better[t] if v not in spare[:1]]]
        p = pick_l[b]
        for cand_type in candidates:
            free = [r for r in rooms_of_type[cand_type] if not busy[r] & span]
            while free and len(chosen) < need:
                k = int(p * len(free)) % len(free)
                chosen.append(free.pop(k))
            if len(chosen) == need:
                break
        if len(chosen) < need:
            continue
        for r in chosen:
            busy[r] |= span
            tt = taken[type_of_room[r]]
            for d in range(a, z):
                tt[d] += 1
        for d in range(a, z):
            st[d] += need
        placed_rooms[b] = chosen
        accepted[b] = True
    placed = np.full((n, max_rooms), -1, dtype=np.int64)
    for b, chosen in placed_rooms.items():
        placed[b, :len(chosen)] = chosen
    return np.array(accepted, dtype=bool), placed, np.array(on_books)
