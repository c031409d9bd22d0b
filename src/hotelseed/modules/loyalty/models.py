from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotelseed.core.schema import Base, JsonDoc, Money, UtcDateTime, enum

LOYALTY_TIER = ("MEMBER", "SILVER", "GOLD", "PLATINUM", "DIAMOND")  # rank order
LEDGER_TYPE = ("EARN", "BONUS", "REDEEM", "ADJUST", "EXPIRE", "REFERRAL", "TRANSFER", "REVERSAL")
TIER_CHANGE_REASON = ("ENROLLMENT", "AUTO_UPGRADE", "RE_QUALIFICATION", "DOWNGRADE", "MANUAL_ADJUSTMENT", "TRANSFER")
REFERRAL_STATUS = ("PENDING", "SIGNED_UP", "COMPLETED", "EXPIRED")
TRANSFER_STATUS = ("PENDING", "COMPLETED", "CANCELLED", "REJECTED")
PERK_REDEMPTION_STATUS = ("ACTIVE", "USED", "EXPIRED", "CANCELLED")
REDEMPTION_STATUS = ("PENDING", "CONFIRMED", "USED", "EXPIRED", "CANCELLED")
REDEMPTION_ITEM_TYPE = ("FREE_NIGHT", "UPGRADE", "VOUCHER", "DISCOUNT", "CASH")

loyalty_tier = enum("loyalty_tier", LOYALTY_TIER)


class TierConfig(Base):
    __tablename__ = "tier_configs"
    tier: Mapped[str] = mapped_column(loyalty_tier, primary_key=True)
    rank: Mapped[int] = mapped_column(sa.Integer, unique=True)
    min_points: Mapped[int] = mapped_column(sa.Integer)
    min_stays: Mapped[int] = mapped_column(sa.Integer)
    min_nights: Mapped[int] = mapped_column(sa.Integer)
    min_spend = mapped_column(Money, nullable=False)
    qualification_period_months: Mapped[int] = mapped_column(sa.Integer)
    base_points_per_100: Mapped[int] = mapped_column(sa.Integer)
    benefits = mapped_column(JsonDoc, nullable=False)


class PointsRule(Base):
    __tablename__ = "points_rules"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    multiplier = mapped_column(sa.Numeric(4, 2), nullable=False)
    condition = mapped_column(JsonDoc, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    bonus_points: Mapped[int] = mapped_column(sa.Integer)


class Perk(Base):
    __tablename__ = "perks"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.Text)
    min_tier: Mapped[str] = mapped_column(loyalty_tier)
    per_stay_cap: Mapped[int] = mapped_column(sa.Integer)
    per_member_cap: Mapped[int] = mapped_column(sa.Integer)
    value = mapped_column(JsonDoc, nullable=False)


class RedemptionItem(Base):
    __tablename__ = "redemption_items"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(enum("redemption_item_type", REDEMPTION_ITEM_TYPE))
    points_cost: Mapped[int] = mapped_column(sa.Integer)
    min_tier: Mapped[str] = mapped_column(loyalty_tier)
    valid_days: Mapped[int] = mapped_column(sa.Integer)
    value = mapped_column(JsonDoc, nullable=False)
    __table_args__ = (sa.CheckConstraint("points_cost > 0", name="cost_positive"),)


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    member_number: Mapped[str] = mapped_column(sa.String(6), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    tier: Mapped[str] = mapped_column(loyalty_tier)
    points_balance: Mapped[int] = mapped_column(sa.Integer)
    lifetime_stays: Mapped[int] = mapped_column(sa.Integer)
    lifetime_nights: Mapped[int] = mapped_column(sa.Integer)
    lifetime_spend = mapped_column(Money, nullable=False)
    qualification_year_start: Mapped[dt.date] = mapped_column(sa.Date)
    qualification_year_end: Mapped[dt.date] = mapped_column(sa.Date)
    marketing_opt_in: Mapped[bool] = mapped_column(sa.Boolean)
    enrolled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    seed_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("seed_runs.id", ondelete="SET NULL"))
    __table_args__ = (
        sa.CheckConstraint("points_balance >= 0", name="balance_nonneg"),
        sa.CheckConstraint("lifetime_nights >= lifetime_stays AND lifetime_stays >= 0", name="metrics"),
        sa.CheckConstraint("length(member_number) = 6", name="member_number_len"),
    )


class PointsLedger(Base):
    __tablename__ = "points_ledger"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    loyalty_account_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(enum("ledger_type", LEDGER_TYPE))
    points: Mapped[int] = mapped_column(sa.Integer)
    balance_before: Mapped[int] = mapped_column(sa.Integer)
    balance_after: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="RESTRICT"), index=True)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_rules.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"))
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id", ondelete="SET NULL"))
    redemption_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("redemption_transactions.id", ondelete="SET NULL")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    meta = mapped_column("metadata", JsonDoc, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.Index("ix_points_ledger_account_time", "loyalty_account_id", "created_at", "id"),
        sa.Index("ux_points_ledger_one_earn", "loyalty_account_id", "booking_id", unique=True,
                 postgresql_where=sa.text("type = 'EARN'"), sqlite_where=sa.text("type = 'EARN'")),
        sa.CheckConstraint("points <> 0", name="points_nonzero"),
        sa.CheckConstraint("balance_after = balance_before + points", name="running_balance"),
        sa.CheckConstraint("balance_before >= 0 AND balance_after >= 0", name="balance_nonneg"),
        sa.CheckConstraint(
            "(type IN ('EARN','BONUS','REFERRAL','REVERSAL') AND points > 0) OR "
            "(type IN ('REDEEM','EXPIRE','TRANSFER') AND points < 0) OR type = 'ADJUST'",
            name="sign_by_type",
        ),
        sa.CheckConstraint("type <> 'EARN' OR booking_id IS NOT NULL", name="earn_booking"),
        sa.CheckConstraint("type NOT IN ('REDEEM','REVERSAL') OR redemption_id IS NOT NULL", name="redeem_link"),
    )


class PerkRedemption(Base):
    __tablename__ = "perk_redemptions"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    perk_id: Mapped[int] = mapped_column(sa.ForeignKey("perks.id", ondelete="RESTRICT"))
    loyalty_account_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(enum("perk_redemption_status", PERK_REDEMPTION_STATUS))
    redeemed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    value_applied = mapped_column(Money)


class RedemptionTransaction(Base):
    __tablename__ = "redemption_transactions"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("redemption_items.id", ondelete="RESTRICT"))
    loyalty_account_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"))
    points_redeemed: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(enum("redemption_status", REDEMPTION_STATUS))
    redeemed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("points_redeemed > 0", name="points_positive"),
        sa.CheckConstraint("status <> 'USED' OR used_at IS NOT NULL", name="used"),
        sa.CheckConstraint("status <> 'CANCELLED' OR cancelled_at IS NOT NULL", name="cancelled"),
        sa.CheckConstraint("expires_at > redeemed_at", name="expiry"),
    )


class TierHistory(Base):
    __tablename__ = "tier_history"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    loyalty_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"), index=True
    )
    from_tier: Mapped[str | None] = mapped_column(loyalty_tier)
    to_tier: Mapped[str] = mapped_column(loyalty_tier)
    points_at_change: Mapped[int] = mapped_column(sa.Integer)
    stays_at_change: Mapped[int] = mapped_column(sa.Integer)
    nights_at_change: Mapped[int] = mapped_column(sa.Integer)
    spend_at_change = mapped_column(Money, nullable=False)
    reason: Mapped[str] = mapped_column(enum("tier_change_reason", TIER_CHANGE_REASON))
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("from_tier IS NULL OR from_tier <> to_tier", name="changes"),
        sa.CheckConstraint("(reason = 'ENROLLMENT') = (from_tier IS NULL)", name="enrollment"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
        sa.Index("ux_tier_history_open", "loyalty_account_id", unique=True,
                 postgresql_where=sa.text("valid_until IS NULL"), sqlite_where=sa.text("valid_until IS NULL")),
    )


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    referrer_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    referred_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("loyalty_accounts.id", ondelete="SET NULL"), unique=True
    )
    referral_code: Mapped[str] = mapped_column(sa.Text, unique=True)
    referred_email: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(enum("referral_status", REFERRAL_STATUS))
    referrer_reward_points: Mapped[int] = mapped_column(sa.Integer)
    referred_reward_points: Mapped[int] = mapped_column(sa.Integer)
    referred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    signed_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("referred_id IS NULL OR referred_id <> referrer_id", name="not_self"),
        sa.CheckConstraint("signed_up_at IS NULL OR signed_up_at >= referred_at", name="signup_after"),
        sa.CheckConstraint("completed_at IS NULL OR completed_at >= signed_up_at", name="complete_after"),
    )


class TierTransfer(Base):
    __tablename__ = "tier_transfers"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    from_account_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    to_account_id: Mapped[int] = mapped_column(sa.ForeignKey("loyalty_accounts.id", ondelete="CASCADE"))
    from_tier: Mapped[str] = mapped_column(loyalty_tier)
    to_tier: Mapped[str] = mapped_column(loyalty_tier)
    points_deduction: Mapped[int] = mapped_column(sa.Integer)
    transfer_fee = mapped_column(Money, nullable=False)
    status: Mapped[str] = mapped_column(enum("transfer_status", TRANSFER_STATUS))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("from_account_id <> to_account_id", name="not_self"),
        sa.CheckConstraint("points_deduction >= 0", name="deduction"),
        sa.CheckConstraint("(status = 'COMPLETED') = (completed_at IS NOT NULL)", name="completed"),
    )
