"""The compiled room calendar (modules/bookings/allocate.py) against the rules it must keep, on random hotels and
booking streams: what a verification check proves on the loaded data, proven here on the allocator alone."""

import numpy as np
from hypothesis import given, settings, strategies as st

from hotelseed.modules.bookings.allocate import allocate
from hotelseed.modules.bookings.generate import NEVER as NEVER_RELEASED

MAX_ROOMS = 3


@st.composite
def hotels_and_bookings(draw):
    n_types = draw(st.integers(1, 4))
    rooms_per_type = draw(st.lists(st.integers(1, 6), min_size=n_types, max_size=n_types))
    room_type_of_room = np.array([t for t, k in enumerate(rooms_per_type) for _ in range(k)], dtype=np.int64)
    draw(st.randoms()).shuffle(room_type_of_room)  # rooms of a type need not be adjacent
    type_rank = np.array(draw(st.permutations(range(n_types))), dtype=np.int64)
    buffer = draw(st.sampled_from([0, 10, 50]))  # overbooking buffer: sellable may exceed the rooms
    sellable = (np.array(rooms_per_type) * (100 + buffer)) // 100
    n = draw(st.integers(1, 60))
    n_days = 20
    first_day = 19_000
    nights = np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)))
    arrival = first_day + np.array(draw(st.lists(st.integers(0, n_days - 5), min_size=n, max_size=n)))
    booked_at = np.array(draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n)), dtype=np.int64)
    released = draw(st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=n, max_size=n))
    released_at = np.array([NEVER_RELEASED if r is None else booked_at[i] + r for i, r in enumerate(released)])
    return dict(n_days=n_days, first_day=first_day, room_type_of_room=room_type_of_room, type_rank=type_rank,
                sellable=sellable, arrival=arrival, nights=nights,
                room_type=np.array(draw(st.lists(st.integers(0, n_types - 1), min_size=n, max_size=n))),
                rooms=np.array(draw(st.lists(st.integers(1, MAX_ROOMS), min_size=n, max_size=n))),
                booked_at=booked_at, released_at=released_at,
                pick=np.array(draw(st.lists(st.floats(0, 0.999999), min_size=n, max_size=n))),
                max_rooms=MAX_ROOMS, upgrade=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))


@given(case=hotels_and_bookings())
@settings(max_examples=300, deadline=None)
def test_rooms_are_never_shared_and_never_oversold(case):
    accepted, placed, on_books = allocate(**case)
    n = len(case["arrival"])
    assert accepted.shape == (n,) and placed.shape == (n, MAX_ROOMS) and on_books.shape == (n,)
    rank = case["type_rank"]
    type_of = case["room_type_of_room"]
    events = []  # (time, 0 = release / 1 = booking, booking): the allocator's own order
    for b in range(n):
        events.append((int(case["booked_at"][b]), 1, b))
        if case["released_at"][b] < NEVER_RELEASED:
            events.append((int(case["released_at"][b]), 0, b))
    # Replay the accepted bookings in event order: at no moment do two live stays hold one room on one night, and
    # no room type is sold beyond its sellable count on any night.
    holder: dict[tuple[int, int], int] = {}
    live: set[int] = set()  # placed and not yet released (a release at or before the booking gives nothing back)
    sold = np.zeros((len(rank), case["n_days"]), dtype=np.int64)
    for _, kind, b in sorted(events):
        if not accepted[b]:
            continue
        rooms = placed[b][placed[b] >= 0]
        a = case["arrival"][b] - case["first_day"]
        nights = range(a, a + case["nights"][b])
        t = case["room_type"][b]
        if kind == 1:
            assert len(rooms) == case["rooms"][b] and len(set(rooms.tolist())) == len(rooms)
            # the booked type, or a better one (an upgrade); never a worse one
            assert all(rank[type_of[r]] >= rank[t] for r in rooms)
            for r in rooms.tolist():
                for d in nights:
                    assert (r, d) not in holder, f"room {r} night {d} held by {holder.get((r, d))} and {b}"
                    holder[(r, d)] = b
            sold[t, list(nights)] += case["rooms"][b]
            assert sold[t, list(nights)].max() <= case["sellable"][t]
            live.add(b)
        elif b in live:
            live.remove(b)
            for r in rooms.tolist():
                for d in nights:
                    del holder[(r, d)]
            sold[t, list(nights)] -= case["rooms"][b]
    assert (placed[~accepted] == -1).all()
    assert (on_books >= 0).all()


def test_a_booking_takes_a_free_room_when_the_hotel_has_one():
    """Rejection is only for a full or fragmented calendar: one booking into an empty hotel is always placed, in
    the room its pick names among the type's free rooms (in room order)."""
    case = dict(n_days=10, first_day=0, room_type_of_room=np.array([0, 1, 0, 0]), type_rank=np.array([0, 1]),
                sellable=np.array([3, 1]), arrival=np.array([2]), nights=np.array([3]), room_type=np.array([0]),
                rooms=np.array([1]), booked_at=np.array([5]), released_at=np.array([NEVER_RELEASED]),
                pick=np.array([0.5]), max_rooms=2, upgrade=np.array([False]))
    accepted, placed, on_books = allocate(**case)
    assert accepted.tolist() == [True]
    assert placed.tolist() == [[2, -1]]  # type 0's rooms are 0, 2, 3; ⌊0.5 × 3⌋ = 1 → room 2
    assert on_books.tolist() == [0.0]
    case["upgrade"] = np.array([True])  # an upgrade goes to the better type, which has its one room free
    assert allocate(**case)[1].tolist() == [[1, -1]]

