from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotelseed.core.schema import Base, JsonDoc, Money, enum

ENTITY_STATUS = ("ACTIVE", "INACTIVE", "COMING_SOON")
ROOM_STATUS = ("ACTIVE", "INACTIVE", "MAINTENANCE")
RATE_PLAN_CODES = ("BAR", "NRF", "MEMBER", "CORP", "PKG")

entity_status = enum("entity_status", ENTITY_STATUS)


class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    status: Mapped[str] = mapped_column(entity_status)


class Property(Base):
    __tablename__ = "properties"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"))
    brand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("brands.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.Text)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    code: Mapped[str] = mapped_column(sa.String(3), unique=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    city: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2))
    phone: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str] = mapped_column(sa.Text)
    timezone: Mapped[str] = mapped_column(sa.Text)
    currency: Mapped[str] = mapped_column(sa.String(3))
    check_in_time: Mapped[str] = mapped_column(sa.String(5))
    check_out_time: Mapped[str] = mapped_column(sa.String(5))
    overbooking_enabled: Mapped[bool] = mapped_column(sa.Boolean)
    default_buffer_pct: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(entity_status)
    __table_args__ = (sa.CheckConstraint("default_buffer_pct >= 0", name="buffer_nonneg"),)


class RoomType(Base):
    __tablename__ = "room_types"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str] = mapped_column(sa.Text)
    rank: Mapped[int] = mapped_column(sa.Integer)  # upgrade order within the property, 1 = entry level
    base_rooms: Mapped[int] = mapped_column(sa.Integer)
    max_occupancy: Mapped[int] = mapped_column(sa.Integer)
    bed_config: Mapped[str] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(sa.Boolean)
    __table_args__ = (
        sa.UniqueConstraint("property_id", "code"),
        sa.UniqueConstraint("id", "property_id"),
        sa.CheckConstraint("base_rooms > 0", name="has_rooms"),
        sa.CheckConstraint("max_occupancy >= 1", name="occupancy"),
    )


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_number: Mapped[str] = mapped_column(sa.Text)
    floor: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(enum("room_status", ROOM_STATUS))
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint("property_id", "room_number"),
        sa.UniqueConstraint("id", "property_id"),
    )


class CancellationPolicy(Base):
    __tablename__ = "cancellation_policies"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int | None] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    free_until_hours: Mapped[int | None] = mapped_column(sa.Integer)  # NULL = non-refundable
    penalty_pct: Mapped[int] = mapped_column(sa.Integer)
    penalty_basis: Mapped[str] = mapped_column(sa.Text)  # FIRST_NIGHT or TOTAL
    rules = mapped_column(JsonDoc, nullable=False)
    __table_args__ = (
        sa.CheckConstraint("penalty_pct BETWEEN 0 AND 100", name="penalty_pct"),
        sa.CheckConstraint("penalty_basis IN ('FIRST_NIGHT','TOTAL')", name="penalty_basis"),
    )


class RatePlan(Base):
    __tablename__ = "rate_plans"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int] = mapped_column(sa.BigInteger)
    room_type_id: Mapped[int] = mapped_column(sa.BigInteger)
    code: Mapped[str] = mapped_column(enum("rate_plan_code", RATE_PLAN_CODES))
    name: Mapped[str] = mapped_column(sa.Text)
    refundable: Mapped[bool] = mapped_column(sa.Boolean)
    base_price = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3))
    discount_pct: Mapped[int] = mapped_column(sa.Integer)
    weekend_uplift_pct: Mapped[int] = mapped_column(sa.Integer)
    min_los: Mapped[int] = mapped_column(sa.Integer)
    max_los: Mapped[int] = mapped_column(sa.Integer)
    cancellation_policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cancellation_policies.id", ondelete="SET NULL")
    )
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["room_type_id", "property_id"], ["room_types.id", "room_types.property_id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint("property_id", "room_type_id", "code"),
        sa.UniqueConstraint("id", "room_type_id"),
        sa.CheckConstraint("base_price > 0", name="price_positive"),
        sa.CheckConstraint("min_los >= 1 AND max_los >= min_los", name="los"),
    )
