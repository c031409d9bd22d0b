from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotelseed.core.schema import Base, JsonDoc, UtcDateTime, enum

ROLE_KEYS = ("GUEST", "MEMBER", "STAFF_FRONTDESK", "STAFF_OPS", "MANAGER", "ADMIN", "SUPERADMIN")
STAFF_ROLES = ("STAFF_FRONTDESK", "STAFF_OPS", "MANAGER")
SCOPE_TYPES = ("ORG", "BRAND", "PROPERTY")

role_key = enum("role_key", ROLE_KEYS)
scope_type = enum("scope_type", SCOPE_TYPES)


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(sa.Text)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    settings = mapped_column(JsonDoc, nullable=False)


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(sa.Text, unique=True)
    phone: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    password_hash: Mapped[str | None] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(sa.Boolean)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    seed_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("seed_runs.id", ondelete="SET NULL"))
    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("phone IS NULL OR phone LIKE '+%'", name="phone_e164"),
    )


class Role(Base):
    __tablename__ = "roles"
    key: Mapped[str] = mapped_column(role_key, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    permissions = mapped_column(JsonDoc, nullable=False)


class UserRole(Base):
    __tablename__ = "user_roles"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(
        role_key,
        sa.ForeignKey("roles.key", ondelete="RESTRICT"),
    )
    scope_type: Mapped[str] = mapped_column(scope_type)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    brand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    property_id: Mapped[int | None] = mapped_column(sa.ForeignKey("properties.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint(
            "(scope_type = 'ORG' AND org_id IS NOT NULL AND brand_id IS NULL AND property_id IS NULL) OR "
            "(scope_type = 'BRAND' AND brand_id IS NOT NULL AND org_id IS NULL AND property_id IS NULL) OR "
            "(scope_type = 'PROPERTY' AND property_id IS NOT NULL AND org_id IS NULL AND brand_id IS NULL)",
            name="one_scope",
        ),
        sa.CheckConstraint(
            "(role_key NOT IN ('STAFF_FRONTDESK','STAFF_OPS','MANAGER') OR scope_type = 'PROPERTY') AND "
            "(role_key NOT IN ('GUEST','MEMBER','SUPERADMIN') OR scope_type = 'ORG')",
            name="role_scope",
        ),
        # UNIQUE NULLS NOT DISTINCT, portable: NULL scope ids are folded to -1.
        sa.Index(
            "ux_user_roles_grant",
            "user_id",
            "role_key",
            "scope_type",
            sa.func.coalesce(sa.column("org_id"), -1),
            sa.func.coalesce(sa.column("brand_id"), -1),
            sa.func.coalesce(sa.column("property_id"), -1),
            unique=True,
        ),
        # Exactly one SUPERADMIN: at most one by index, at least one by verification.
        sa.Index(
            "ux_user_roles_one_superadmin",
            "role_key",
            unique=True,
            postgresql_where=sa.text("role_key = 'SUPERADMIN'"),
            sqlite_where=sa.text("role_key = 'SUPERADMIN'"),
        ),
    )
