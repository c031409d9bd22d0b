from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotelseed.core.schema import Base, JsonDoc, UtcDateTime, enum

CONVERSATION_STATUS = ("NEW", "IN_PROGRESS", "WAITING_FOR_GUEST", "RESOLVED", "ARCHIVED")
PRIORITY = ("LOW", "NORMAL", "HIGH", "URGENT")
DIRECTION = ("INBOUND", "OUTBOUND")
EMAIL_STATUS = ("DRAFT", "QUEUED", "SENT", "DELIVERED", "BOUNCED", "FAILED")
EMAIL_CATEGORY = ("TRANSACTIONAL", "MARKETING")
EMAIL_EVENT_TYPE = ("DELIVERY", "BOUNCE", "SPAM_COMPLAINT", "OPEN", "CLICK", "LINK_CLICK", "SUBSCRIPTION_CHANGE")
SUPPRESSION_CHANNEL = ("EMAIL", "SMS", "WHATSAPP")
SUPPRESSION_REASON = ("HARD_BOUNCE", "SPAM_COMPLAINT", "MANUAL_SUPPRESSION", "UNSUBSCRIBE")
MESSAGE_CHANNEL = ("WHATSAPP", "SMS")
MESSAGE_STATUS = ("PENDING", "SENT", "DELIVERED", "READ", "FAILED")
CALL_STATUS = ("INITIATED", "RINGING", "ANSWERED", "COMPLETED", "BUSY", "FAILED", "NO_ANSWER", "CANCELLED")
THREAD_CATEGORY = ("BOOKING", "GENERAL", "SUPPORT")
THREAD_CHANNEL = ("EMAIL", "WHATSAPP", "SMS", "CALL")

direction = enum("direction", DIRECTION)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    phone: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Thread(Base):
    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(enum("thread_category", THREAD_CATEGORY))
    topic: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[str] = mapped_column(enum("thread_channel", THREAD_CHANNEL))
    status: Mapped[str] = mapped_column(enum("conversation_status", CONVERSATION_STATUS))
    priority: Mapped[str] = mapped_column(enum("priority", PRIORITY))
    is_escalated: Mapped[bool] = mapped_column(sa.Boolean)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    property_id: Mapped[int | None] = mapped_column(sa.ForeignKey("properties.id", ondelete="SET NULL"))
    participants = mapped_column(JsonDoc, nullable=False)
    tags = mapped_column(JsonDoc, nullable=False)
    unread_count: Mapped[int] = mapped_column(sa.Integer)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sla_breached: Mapped[bool] = mapped_column(sa.Boolean)
    last_message_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    is_archived: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("booking_id IS NULL OR property_id IS NOT NULL", name="booking_property"),
        sa.CheckConstraint("first_response_at IS NULL OR first_response_at > created_at", name="first_response"),
        sa.CheckConstraint("status NOT IN ('RESOLVED','ARCHIVED') OR resolved_at IS NOT NULL", name="resolved"),
        sa.CheckConstraint("is_archived = (status = 'ARCHIVED')", name="archived"),
        sa.CheckConstraint("resolved_at IS NULL OR first_response_at IS NULL OR resolved_at >= first_response_at",
                           name="resolved_after_response"),
    )


class Email(Base):
    __tablename__ = "emails"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    provider_message_id: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    direction: Mapped[str] = mapped_column(direction)
    category: Mapped[str] = mapped_column(enum("email_category", EMAIL_CATEGORY))
    status: Mapped[str] = mapped_column(enum("email_status", EMAIL_STATUS))
    from_email: Mapped[str] = mapped_column(sa.Text)
    to_emails = mapped_column(JsonDoc, nullable=False)
    cc = mapped_column(JsonDoc, nullable=False)
    subject: Mapped[str] = mapped_column(sa.Text)
    body_text: Mapped[str] = mapped_column(sa.Text)
    tag: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("direction = 'OUTBOUND' OR category = 'TRANSACTIONAL'", name="inbound_transactional"),
        sa.CheckConstraint("sent_at IS NULL OR sent_at >= created_at", name="sent_after"),
    )


class EmailAttachment(Base):
    __tablename__ = "email_attachments"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    email_id: Mapped[int] = mapped_column(sa.ForeignKey("emails.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.Text)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    storage_url: Mapped[str] = mapped_column(sa.Text)


class EmailEvent(Base):
    __tablename__ = "email_events"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    email_id: Mapped[int] = mapped_column(sa.ForeignKey("emails.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(enum("email_event_type", EMAIL_EVENT_TYPE))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recipient: Mapped[str] = mapped_column(sa.Text)
    details = mapped_column(JsonDoc, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    ip: Mapped[str | None] = mapped_column(sa.Text)


class Suppression(Base):
    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(enum("suppression_channel", SUPPRESSION_CHANNEL))
    address: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(enum("suppression_reason", SUPPRESSION_REASON))
    origin_email_id: Mapped[int | None] = mapped_column(sa.ForeignKey("emails.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(sa.Text)
    suppressed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.UniqueConstraint("channel", "address"),
        sa.CheckConstraint("channel = 'EMAIL' OR reason IN ('UNSUBSCRIBE','MANUAL_SUPPRESSION')",
                           name="phone_reasons"),
    )


class MessageLog(Base):
    __tablename__ = "message_logs"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="SET NULL"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(enum("message_channel", MESSAGE_CHANNEL))
    direction: Mapped[str] = mapped_column(direction)
    status: Mapped[str] = mapped_column(enum("message_status", MESSAGE_STATUS))
    phone: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    template_id: Mapped[str | None] = mapped_column(sa.Text)
    template_params = mapped_column(JsonDoc)
    provider: Mapped[str] = mapped_column(sa.Text)
    provider_message_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    provider_status: Mapped[str] = mapped_column(sa.Text)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint("channel <> 'SMS' OR status <> 'READ'", name="sms_never_read"),
        sa.CheckConstraint("status <> 'FAILED' OR error_message IS NOT NULL", name="failed_error"),
        sa.CheckConstraint(
            "(sent_at IS NULL OR sent_at >= created_at) AND (delivered_at IS NULL OR delivered_at >= sent_at) "
            "AND (read_at IS NULL OR read_at >= coalesce(delivered_at, sent_at))",
            name="lifecycle",
        ),
    )


class CallLog(Base):
    __tablename__ = "call_logs"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="SET NULL"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    handled_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(direction)
    status: Mapped[str] = mapped_column(enum("call_status", CALL_STATUS))
    from_number: Mapped[str] = mapped_column(sa.Text)
    to_number: Mapped[str] = mapped_column(sa.Text)
    duration_sec: Mapped[int | None] = mapped_column(sa.Integer)
    provider: Mapped[str] = mapped_column(sa.Text)
    provider_call_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    recording_url: Mapped[str | None] = mapped_column(sa.Text)
    initiated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'COMPLETED' OR (answered_at IS NOT NULL AND completed_at IS NOT NULL AND duration_sec > 0)",
            name="completed",
        ),
        sa.CheckConstraint(
            "status NOT IN ('BUSY','NO_ANSWER','FAILED','CANCELLED') OR "
            "(answered_at IS NULL AND duration_sec IS NULL AND recording_url IS NULL)",
            name="unanswered",
        ),
    )


class ConversationNote(Base):
    __tablename__ = "conversation_notes"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    content: Mapped[str] = mapped_column(sa.Text)
    is_internal: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
