"""The declarative base and the column types every module uses. No hotel words here."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase


class Money(sa.types.TypeDecorator):
    """numeric(12,2). Generators hand the loader integer minor units (cents/paise): no float rounding."""

    impl = sa.Numeric(12, 2)
    cache_ok = True


UtcDateTime = sa.DateTime(timezone=True)
JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Run bookkeeping, not data: left out of content digests and exports.
BOOKKEEPING_TABLES = frozenset({"seed_runs", "hotelseed_environment", "hotelseed_shards"})

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    """A named enum: a native type on PostgreSQL, a CHECK constraint on SQLite."""
    return sa.Enum(*values, name=name, native_enum=True, create_constraint=True, validate_strings=True)


class SeedRun(Base):
    """One row per seed run: the seed, as-of and options that produced the data (provenance)."""

    __tablename__ = "seed_runs"
    id: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.BigInteger, primary_key=True)
    seed: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.BigInteger)
    as_of = sa.orm.mapped_column(UtcDateTime, nullable=False)
    profile: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.Text)
    options = sa.orm.mapped_column(JsonDoc, nullable=False)
    tool_version: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.Text)


class EnvironmentStamp(Base):
    """Which environment this database belongs to (Rails' ar_internal_metadata idea): written by `migrate`
    and by the first seed, and checked before every destructive run."""

    __tablename__ = "hotelseed_environment"
    id: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    environment: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.Text)
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)


class ShardLoad(Base):
    """A load split into shards (`hotelseed shard prepare|load|finish`): the prepare row (shard_index -1) keeps
    the shard count and the index and constraint definitions set aside for the load; one row per loaded shard."""

    __tablename__ = "hotelseed_shards"
    run_id: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.BigInteger, primary_key=True)
    shard_index: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    shard_count: sa.orm.Mapped[int] = sa.orm.mapped_column(sa.Integer, nullable=False)
    deferred = sa.orm.mapped_column(JsonDoc)
    rows: sa.orm.Mapped[int | None] = sa.orm.mapped_column(sa.BigInteger)
    finished_at = sa.orm.mapped_column(UtcDateTime)
