from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotelseed.core.schema import Base, JsonDoc, Money, UtcDateTime, enum

BOOKING_STATUS = ("HOLD", "PENDING", "CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "CANCELLED", "NO_SHOW",
                  "REJECTED", "COMPLETED", "FAILED")
BOOKING_SOURCE = ("WEB_DIRECT", "OTA_BOOKING_COM", "OTA_MMT", "OTA_EASEMYTRIP", "OTA_CLEARTRIP", "OTA_EXPEDIA",
                  "OTA_AGODA", "WALK_IN", "PHONE", "CORPORATE", "GROUP", "OTHER")
STAY_STATUS = ("PENDING", "CONFIRMED", "CHECKED_IN", "CHECKED_OUT", "CANCELLED", "NO_SHOW")
PAYMENT_STATUS = ("PENDING", "COMPLETED", "FAILED", "CANCELLED", "REFUNDED")
PAYMENT_KIND = ("CHARGE", "REFUND")
PAYMENT_METHOD = ("CARD", "UPI", "NETBANKING", "WALLET", "CASH", "BANK_TRANSFER", "OTA_COLLECT",
                  "CORPORATE_INVOICE", "LOYALTY_POINTS")
HOLD_STATUS = ("ACTIVE", "RELEASED", "CONFIRMED", "EXPIRED")
LOCK_TYPE = ("HOLD", "BOOKED", "RELEASE")
BOOKING_ACTION = ("CREATE", "HOLD", "CONFIRM", "PAYMENT", "ASSIGN_ROOM", "CHECK_IN", "CHECK_OUT", "MODIFY",
                  "CANCEL", "NO_SHOW", "REJECT", "FAIL", "COMPLETE", "NOTE")

OTA_SOURCES = tuple(s for s in BOOKING_SOURCE if s.startswith("OTA_"))
_OTA_SQL = ", ".join(f"'{s}'" for s in OTA_SOURCES)

# booking status -> stay status (platform.md §4.2 invariant 6)
STAY_STATUS_OF = {"HOLD": "PENDING", "PENDING": "PENDING", "CONFIRMED": "CONFIRMED", "CHECKED_IN": "CHECKED_IN",
                  "CHECKED_OUT": "CHECKED_OUT", "COMPLETED": "CHECKED_OUT", "CANCELLED": "CANCELLED",
                  "REJECTED": "CANCELLED", "FAILED": "CANCELLED", "NO_SHOW": "NO_SHOW"}

booking_status = enum("booking_status", BOOKING_STATUS)
stay_status = enum("stay_status", STAY_STATUS)


class Inventory(Base):
    __tablename__ = "inventories"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    stay_date: Mapped[dt.date] = mapped_column(sa.Date)
    base_available: Mapped[int] = mapped_column(sa.Integer)
    buffer_pct: Mapped[int] = mapped_column(sa.Integer)
    sellable: Mapped[int] = mapped_column(sa.Integer)
    booked: Mapped[int] = mapped_column(sa.Integer)
    holds: Mapped[int] = mapped_column(sa.Integer)
    free_to_sell: Mapped[int] = mapped_column(sa.Integer)
    overbooked: Mapped[int] = mapped_column(sa.Integer)
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint("room_type_id", "stay_date"),
        # inventoryUtils.js formulas, enforced by the database
        sa.CheckConstraint("sellable = (base_available * (100 + buffer_pct)) / 100", name="sellable"),
        sa.CheckConstraint(
            "free_to_sell = CASE WHEN sellable - booked - holds > 0 THEN sellable - booked - holds ELSE 0 END",
            name="free_to_sell",
        ),
        sa.CheckConstraint(
            "overbooked = CASE WHEN booked - sellable > 0 THEN booked - sellable ELSE 0 END", name="overbooked"
        ),
        sa.CheckConstraint("booked >= 0 AND holds >= 0", name="counters_nonneg"),
    )


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    confirmation_number: Mapped[str] = mapped_column(sa.Text, unique=True)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="RESTRICT"))
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    rate_plan_id: Mapped[int] = mapped_column(sa.BigInteger)
    cancellation_policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cancellation_policies.id", ondelete="SET NULL")
    )
    loyalty_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("loyalty_accounts.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    guest_name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str] = mapped_column(sa.Text)
    phone: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2))
    check_in: Mapped[dt.date] = mapped_column(sa.Date)
    check_out: Mapped[dt.date] = mapped_column(sa.Date)
    nights: Mapped[int] = mapped_column(sa.Integer)
    adults: Mapped[int] = mapped_column(sa.Integer)
    children: Mapped[int] = mapped_column(sa.Integer)
    rooms: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(booking_status)
    source: Mapped[str] = mapped_column(enum("booking_source", BOOKING_SOURCE))
    source_reservation_id: Mapped[str | None] = mapped_column(sa.Text)
    commission_pct = mapped_column(sa.Numeric(5, 2), nullable=False)
    commission_amount = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3))
    net_amount = mapped_column(Money, nullable=False)
    tax_amount = mapped_column(Money, nullable=False)
    total_price = mapped_column(Money, nullable=False)
    cancellation_fee = mapped_column(Money)  # what the policy kept (0 = free cancellation)
    special_requests: Mapped[int] = mapped_column(sa.Integer)
    hold_token: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    hold_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(sa.Text)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    seed_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("seed_runs.id", ondelete="SET NULL"))
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["rate_plan_id", "room_type_id"], ["rate_plans.id", "rate_plans.room_type_id"], ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("id", "property_id"),
        sa.UniqueConstraint("source", "source_reservation_id"),
        sa.Index("ix_bookings_property_check_in", "property_id", "check_in"),
        sa.CheckConstraint("check_out > check_in", name="dates"),
        sa.CheckConstraint("adults >= 1 AND children >= 0 AND rooms >= 1", name="party"),
        # In whole cents: SQLite stores numeric as REAL, where 0.1 + 0.2 <> 0.3.
        sa.CheckConstraint("ROUND(total_price * 100) = ROUND(net_amount * 100) + ROUND(tax_amount * 100)", name="total"),
        sa.CheckConstraint(f"source NOT IN ({_OTA_SQL}) OR (source_reservation_id IS NOT NULL AND commission_pct > 0)",
                           name="ota_channel"),
        sa.CheckConstraint("status <> 'HOLD' OR (hold_token IS NOT NULL AND hold_expires_at IS NOT NULL)",
                           name="hold"),
        sa.CheckConstraint("status NOT IN ('CHECKED_IN','CHECKED_OUT','COMPLETED') OR checked_in_at IS NOT NULL",
                           name="checked_in"),
        sa.CheckConstraint("status NOT IN ('CHECKED_OUT','COMPLETED') OR checked_out_at > checked_in_at",
                           name="checked_out"),
        sa.CheckConstraint("status <> 'CANCELLED' OR (cancelled_at IS NOT NULL AND cancellation_fee IS NOT NULL)",
                           name="cancelled"),
        sa.CheckConstraint("cancellation_fee IS NULL OR (cancellation_fee >= 0 AND cancellation_fee <= total_price)",
                           name="fee_within_total"),
        sa.CheckConstraint(
            "(confirmed_at IS NULL OR confirmed_at >= created_at) AND (cancelled_at IS NULL OR cancelled_at >= "
            "created_at) AND (checked_in_at IS NULL OR checked_in_at >= created_at)",
            name="events_after_created",
        ),
    )


class BookingGuest(Base):
    __tablename__ = "booking_guests"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2))
    is_primary: Mapped[bool] = mapped_column(sa.Boolean)
    age: Mapped[int | None] = mapped_column(sa.Integer)
    loyalty_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="SET NULL"))
    __table_args__ = (
        sa.Index("ux_booking_guests_primary", "booking_id", unique=True,
                 postgresql_where=sa.text("is_primary"), sqlite_where=sa.text("is_primary = 1")),
    )


class Stay(Base):
    __tablename__ = "stays"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    property_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    rate_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rate_plans.id", ondelete="SET NULL"))
    check_in_date: Mapped[dt.date] = mapped_column(sa.Date)
    check_out_date: Mapped[dt.date] = mapped_column(sa.Date)
    num_guests: Mapped[int] = mapped_column(sa.Integer)
    nightly_rates = mapped_column(JsonDoc, nullable=False)
    status: Mapped[str] = mapped_column(stay_status)
    __table_args__ = (
        sa.ForeignKeyConstraint(["booking_id", "property_id"], ["bookings.id", "bookings.property_id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"],
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["room_id", "property_id"], ["rooms.id", "rooms.property_id"],
                                ondelete="RESTRICT"),
        sa.Index("ix_stays_room_dates", "room_id", "check_in_date"),
        sa.CheckConstraint("check_out_date > check_in_date", name="dates"),
        sa.CheckConstraint("num_guests >= 1", name="guests"),
    )


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(enum("payment_kind", PAYMENT_KIND))
    method: Mapped[str] = mapped_column(enum("payment_method", PAYMENT_METHOD))
    provider: Mapped[str] = mapped_column(sa.Text)
    provider_order_id: Mapped[str | None] = mapped_column(sa.Text)
    provider_payment_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    amount = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(enum("payment_status", PAYMENT_STATUS))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    captured_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Indexed: deleting a payment looks up its refunds (without it a cleanup is quadratic in payments).
    refund_of_payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("(kind = 'REFUND') = (refund_of_payment_id IS NOT NULL)", name="refund_link"),
        sa.CheckConstraint("status <> 'COMPLETED' OR captured_at >= created_at", name="captured"),
    )


class RoomAssignment(Base):
    __tablename__ = "room_assignments"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    stay_id: Mapped[int] = mapped_column(sa.ForeignKey("stays.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("rooms.id", ondelete="RESTRICT"))
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint(
            "(checked_in_at IS NULL OR assigned_at <= checked_in_at) AND "
            "(checked_out_at IS NULL OR checked_in_at < checked_out_at)",
            name="times",
        ),
    )


class BookingAuditLog(Base):
    __tablename__ = "booking_audit_logs"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    performed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(enum("booking_action", BOOKING_ACTION))
    from_status: Mapped[str | None] = mapped_column(booking_status)
    to_status: Mapped[str] = mapped_column(booking_status)
    meta = mapped_column("meta", JsonDoc, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class HoldLog(Base):
    __tablename__ = "hold_logs"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    hold_token: Mapped[str] = mapped_column(sa.Text, unique=True)
    property_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    check_in: Mapped[dt.date] = mapped_column(sa.Date)
    check_out: Mapped[dt.date] = mapped_column(sa.Date)
    rooms: Mapped[int] = mapped_column(sa.Integer)
    guests: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(enum("hold_status", HOLD_STATUS))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.ForeignKeyConstraint(["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("expires_at > created_at", name="ttl"),
        sa.CheckConstraint("check_out > check_in", name="dates"),
    )


class InventoryLock(Base):
    __tablename__ = "inventory_locks"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    inventory_id: Mapped[int] = mapped_column(sa.ForeignKey("inventories.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    hold_token: Mapped[str] = mapped_column(sa.Text, index=True)
    type: Mapped[str] = mapped_column(enum("lock_type", LOCK_TYPE))
    change: Mapped[int] = mapped_column(sa.Integer)
    locked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (sa.CheckConstraint("change > 0", name="change_positive"),)


# Invariant 5 (no room holds two live stays on a night), enforced by each database in its own way.
# PostgreSQL: the spec's exclusion constraint (needs btree_gist for the bigint equality in a GiST index).
# SQLite: a trigger performing the same half-open overlap test, QloApps-style: a.in < b.out AND a.out > b.in.
sa.event.listen(Base.metadata, "before_create",
                sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"))
sa.event.listen(Stay.__table__, "after_create", sa.DDL(
    "ALTER TABLE stays ADD CONSTRAINT ex_stays_room_no_overlap EXCLUDE USING gist "
    "(room_id WITH =, daterange(check_in_date, check_out_date, '[)') WITH &&) "
    "WHERE (room_id IS NOT NULL AND status NOT IN ('CANCELLED', 'NO_SHOW'))").execute_if(dialect="postgresql"))
for _event in ("INSERT", "UPDATE"):
    sa.event.listen(Stay.__table__, "after_create", sa.DDL(
        f"CREATE TRIGGER tr_stays_no_overlap_{_event.lower()} BEFORE {_event} ON stays "
        "WHEN NEW.room_id IS NOT NULL AND NEW.status NOT IN ('CANCELLED', 'NO_SHOW') BEGIN "
        "SELECT RAISE(ABORT, 'ex_stays_room_no_overlap: room already has a live stay on these nights') "
        "WHERE EXISTS (SELECT 1 FROM stays s WHERE s.room_id = NEW.room_id AND s.id <> NEW.id "
        "AND s.status NOT IN ('CANCELLED', 'NO_SHOW') "
        "AND s.check_in_date < NEW.check_out_date AND s.check_out_date > NEW.check_in_date); END"
    ).execute_if(dialect="sqlite"))
