"""A learner's attempts at the questionnaire, their answers, and the scored result.

An attempt belongs to one person in one placement of the tool (resource link); answers are
saved one by one as they are given, and the result is stored once, at submission, under the
instrument version the attempt was started with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, ResourceLink, utcnow
from lti_tool.questionnaire.instrument import instrument_key
from lti_tool.questionnaire.scoring import AreaScore, DimensionScore, Profile, QualityFlags


class Attempt(db.Model):
    """One run through the questionnaire by one person in one activity."""

    __tablename__ = "attempt"
    __table_args__ = (UniqueConstraint("person_id", "resource_link_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: The launch's course; None only for a launch without a context (no cohort then).
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(64))
    #: Answers are only ever scored with this version, even after a newer one is published.
    instrument_version: Mapped[int]
    #: 1, 2, ... per person and resource link; a new one only when a mentor allows a retake.
    number: Mapped[int]
    started_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_dt: Mapped[datetime | None]
    #: 0-based index of the page the learner last went to (Instrument.pages()).
    current_page: Mapped[int] = mapped_column(default=0)
    #: Seconds spent on each page, keyed by the 0-based page index as a string (JSON keys).
    page_seconds: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    #: Set by a mentor on a submitted attempt: the learner may start one more.
    retake_allowed_dt: Mapped[datetime | None]
    retake_allowed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    #: With a mentor's grant: the retake opens at this time (e.g. a goal's target date), not
    #: at once. None: at once.
    retake_from_dt: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    course: Mapped[Course | None] = relationship()
    resource_link: Mapped[ResourceLink] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )
    result: Mapped[Result | None] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    @property
    def instrument_key(self) -> str:
        """The instrument and version the attempt is answered with, e.g. "design_mindset@1"."""
        return instrument_key(self.instrument_id, self.instrument_version)

    @property
    def is_submitted(self) -> bool:
        """Whether the attempt was submitted (and scored)."""
        return self.submitted_dt is not None

    @property
    def retake_allowed(self) -> bool:
        """Whether a mentor allowed another attempt after this submitted one (from some date)."""
        return self.retake_allowed_dt is not None

    def retake_opens_dt(self, round_dt: datetime | None = None) -> datetime | None:
        """When another attempt may start after this submitted one; None if none is planned.

        Either the mentor's grant (from its date, or at once) or the activity's retake round
        (`round_dt`): a round opens one more attempt for everyone whose latest attempt was
        submitted before it.
        """
        if self.submitted_dt is None:
            return None
        found = []
        if self.retake_allowed_dt is not None:
            found.append(self.retake_from_dt or self.retake_allowed_dt)
        if round_dt is not None and self.submitted_dt < round_dt:
            found.append(round_dt)
        return min(found, default=None)

    def seconds_by_page(self) -> dict[int, float]:
        """The time spent per page, keyed by the 0-based page index."""
        return {int(page): float(seconds) for page, seconds in (self.page_seconds or {}).items()}


class Answer(db.Model):
    """The latest answer to one item in an attempt, changed in place when the learner changes it."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    #: The raw point of the scale the learner chose, before any reverse keying.
    value: Mapped[int]
    answered_dt: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")


class Result(db.Model):
    """The profile scored from a submitted attempt, stored once and never rescored."""

    __tablename__ = "result"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), unique=True)
    #: The mean of the dimension scores, on 1..10.
    overall: Mapped[float]
    #: Dimension id → {"score": 1..10, "mean": mean keyed answer on the answer scale}.
    dimension_scores: Mapped[dict[str, dict[str, float]]] = mapped_column(JSON)
    #: Area id → 1..10 score. Strengths and areas for development are not stored: they are
    #: read from the scores with the precision known when they are shown (interpretation.py).
    area_scores: Mapped[dict[str, float]] = mapped_column(JSON)
    #: scoring.QualityFlag dicts (kind, page, seconds, value, ...): data, rendered in each
    #: reader's language by quality_notes.py. An empty list when nothing was flagged.
    quality_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Whether any quality flag was raised: such a response is left out of averages,
    #: cohort statistics, reliability and norms (questionnaire/responses.py).
    flagged: Mapped[bool] = mapped_column(default=False, index=True)
    scored_dt: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="result")

    @classmethod
    def from_profile(cls, attempt: Attempt, profile: Profile) -> Result:
        """A Result row holding everything in the profile."""
        quality = profile.quality
        return cls(
            attempt=attempt,
            overall=profile.overall,
            dimension_scores={
                entry.dimension_id: {"score": entry.score, "mean": entry.mean}
                for entry in profile.dimensions
            },
            area_scores=profile.area_scores,
            quality_flags=quality.to_list(),
            flagged=not quality.ok,
        )

    def quality(self) -> QualityFlags:
        """The stored quality flags."""
        return QualityFlags.from_list(self.quality_flags)

    def profile(self) -> Profile:
        """The stored result as the Profile it was made from."""
        return Profile(
            instrument_key=self.attempt.instrument_key,
            dimensions=tuple(
                DimensionScore(dimension_id, float(entry["score"]), float(entry["mean"]))
                for dimension_id, entry in self.dimension_scores.items()
            ),
            areas=tuple(
                AreaScore(area_id, float(value)) for area_id, value in self.area_scores.items()
            ),
            overall=self.overall,
            quality=self.quality(),
        )
