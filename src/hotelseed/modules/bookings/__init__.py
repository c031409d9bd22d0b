"""Bookings: inventory, holds, bookings, guests, stays, payments, room assignments, audit trail."""
