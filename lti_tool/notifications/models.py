"""The mail outbox and each person's choice of which kinds of e-mail they get.

A Notification is written in the same transaction as the change that causes it (a booking,
a cancellation) or by the worker's periodic scan (a reminder); the worker sends it after
commit. Its `key` makes enqueueing idempotent: one occurrence, one message.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.models import Person, utcnow


class MailStatus(enum.StrEnum):
    """Where a message stands on its way to the mail server."""

    PENDING = "pending"
    #: Handed to the mail server right now (or the worker died while handing it over).
    SENDING = "sending"
    SENT = "sent"
    #: The mail server refused it for good (5xx), or retries ran out.
    FAILED = "failed"
    #: Not sent on purpose: no address, or the person turned this kind off.
    SKIPPED = "skipped"
    #: The worker stopped while the server was receiving it: it may have arrived, so it is
    #: not sent again (at most once, see sender.py).
    UNCERTAIN = "uncertain"


def _enum(cls: type[enum.Enum]) -> db.Enum:
    return db.Enum(
        cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class Notification(db.Model):
    """One e-mail to one person: pending → sending → sent (or failed, skipped, uncertain)."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("key", name="uq_notification_key"),
        # The worker's query: due pending messages, oldest first.
        Index("ix_notification_status_next_try_dt", "status", "next_try_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of kinds.Kind's values; names the templates under templates/mail/.
    kind: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: "<kind>:<recipient id>:<occurrence>": the same occurrence is enqueued once.
    key: Mapped[str] = mapped_column(String(255))
    #: What the templates need, JSON only (times as ISO UTC strings).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Files sent with it: [{"filename", "mimetype", "text"}] (an .ics is text).
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    #: Fixed when enqueued, so a message is always the same message.
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a worker began handing it to the mail server.
    sending_dt: Mapped[datetime | None]
    sent_dt: Mapped[datetime | None]
    #: The mail server's last refusal, or why it was skipped.
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    recipient: Mapped[Person] = relationship()


class MailPreference(db.Model):
    """A kind of e-mail a person turned off (no row: they get it)."""

    __tablename__ = "mail_preference"
    __table_args__ = (UniqueConstraint("person_id", "kind", name="uq_mail_preference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: How it was turned off: "page" (the settings page) or "link" (the unsubscribe link).
    source: Mapped[str] = mapped_column(String(16), default="page")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
