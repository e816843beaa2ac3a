"""How each activity is graded, and the score outbox.

A ScoreRecord is written in the same transaction as the questionnaire's Result, so a score
exists exactly when a result does; the grades worker delivers it to the LMS after commit.
The gradebook floor sits below the questionnaire, so the Result is referred to by its table
name only: this package never imports the questionnaire.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.models import Person, ResourceLink, utcnow


def _enum(cls: type[enum.Enum]) -> db.Enum:
    return db.Enum(
        cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class GradeMode(enum.StrEnum):
    """What a submission is worth in the LMS gradebook."""

    #: Full marks for submitting: mindset scores are developmental, not an achievement.
    COMPLETION = "completion"
    #: The overall index (1–10) as a share of the line item's maximum: overall / 10 · max.
    SCORE = "score"


class ScoreStatus(enum.StrEnum):
    """Where a score stands on its way to the LMS."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    #: A newer score for the same person and activity replaced it before it was sent.
    SUPERSEDED = "superseded"
    #: A score (score mode) from a response flagged for its quality: not sent until a mentor
    #: has looked at it and released it.
    HELD = "held"
    #: A held score the mentor decided not to send.
    WITHHELD = "withheld"


class GradeSettings(db.Model):
    """One activity's grade mode and the LMS line item its scores go to."""

    __tablename__ = "grade_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"), unique=True)
    grade_mode: Mapped[GradeMode] = mapped_column(_enum(GradeMode), default=GradeMode.COMPLETION)
    #: The line item URL found or created for the activity (exactly as the platform gave it,
    #: query string included); None until the worker first needs it.
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))
    #: The line item's scoreMaximum; None while unknown (scores then assume 100).
    score_maximum: Mapped[float | None]
    #: Why no line item can be had (no AGS, a scope not granted), for mentors; None when fine.
    lineitem_problem: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resource_link: Mapped[ResourceLink] = relationship()


class ScoreRecord(db.Model):
    """One score to deliver to the LMS: pending → sent | failed (or superseded)."""

    __tablename__ = "score_record"
    __table_args__ = (
        # The worker's query: due pending records, oldest first.
        Index("ix_score_record_status_next_try_dt", "status", "next_try_dt"),
        # The newest record per person in an activity (timestamps, supersession, mentors).
        Index("ix_score_record_resource_link_id_person_id", "resource_link_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: The questionnaire Result the score comes from.
    result_id: Mapped[int | None] = mapped_column(ForeignKey("result.id"), index=True)
    #: The overall mindset index (1–10) the score was computed from, kept for a mode change.
    overall: Mapped[float]
    grade_mode: Mapped[GradeMode] = mapped_column(_enum(GradeMode))
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    comment: Mapped[str] = mapped_column(String(255), default="")
    #: Whether the response the score comes from was flagged for its quality; in score mode
    #: such a score is held for a mentor's review (also when the mode changes later).
    quality_flagged: Mapped[bool] = mapped_column(default=False)
    #: The score's own timestamp, fixed when recorded and sent unchanged on every try. Strictly
    #: later, in whole seconds, than the previous record's for the same person and activity
    #: (one line item per activity): Moodle refuses (409) a timestamp that is not later than
    #: the stored one at 1 s resolution.
    score_dt: Mapped[datetime]
    status: Mapped[ScoreStatus] = mapped_column(_enum(ScoreStatus), default=ScoreStatus.PENDING)
    #: Delivery tries since it last became pending.
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: When it last became pending (recorded, or retried by a mentor); retries stop
    #: GRADE_RETRY_HOURS after it.
    pending_since_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: The platform's answer to the last failed try, or why the score cannot be sent.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The line item the score was posted to.
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))
    sent_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()
    resource_link: Mapped[ResourceLink] = relationship()
