"""A learner's attempts at the questionnaire, their answers, and the scored result.

An attempt belongs to one person in one placement of the tool (resource link); answers are
saved one by one as they are given, and the result is stored once, at submission, under the
instrument version the attempt was started with.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    event,
    false,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, ResourceLink, utcnow
from lti_tool.questionnaire.instrument import instrument_key
from lti_tool.questionnaire.scoring import AreaScore, DimensionScore, Profile, QualityFlags


class Attempt(db.Model):
    """One run through the questionnaire by one person in one activity."""

    __tablename__ = "attempt"
    __table_args__ = (
        UniqueConstraint("person_id", "resource_link_id", "number"),
        # A cohort's learners with their latest (submitted) attempt: one join on these.
        Index("ix_attempt_latest", "resource_link_id", "person_id",
              sqlite_where=text("latest = 1"), postgresql_where=text("latest")),
        Index("ix_attempt_latest_submitted", "resource_link_id", "person_id",
              sqlite_where=text("latest_submitted = 1"), postgresql_where=text("latest_submitted")),
    )

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
    #: The person's newest attempt in its activity (the highest number), and their newest
    #: submitted one: kept by mark_latest whenever attempts are added, submitted or removed,
    #: so a cohort joins each learner's attempt in one step instead of looking it up per
    #: learner.
    latest: Mapped[bool] = mapped_column(default=False, server_default=false())
    latest_submitted: Mapped[bool] = mapped_column(default=False, server_default=false())

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


def mark_latest(*scope: ColumnElement[bool], session: Session | None = None) -> None:
    """Set Attempt.latest and Attempt.latest_submitted of the attempts in `scope` (and of
    every other attempt of the same people in the same activities, which `scope` should
    include): one UPDATE, whatever was added, submitted or deleted before it. Attempts
    loaded in the session read their markers again.

    Flushes of Attempt objects call it themselves (below); a bulk INSERT or UPDATE that adds
    or submits attempts must call it after.
    """
    session = session or db.session
    _update_markers(scope, session)
    _expire_markers(session)


def _update_markers(scope: Iterable[ColumnElement[bool]], session: Session) -> None:
    table = Attempt.__table__
    newer = aliased(table)
    same = and_(newer.c.person_id == table.c.person_id,
                newer.c.resource_link_id == table.c.resource_link_id)
    top = select(func.max(newer.c.number)).where(same).scalar_subquery()
    top_submitted = (select(func.max(newer.c.number))
                     .where(same, newer.c.submitted_dt.is_not(None)).scalar_subquery())
    session.connection().execute(table.update().where(*scope).values(
        latest=func.coalesce(table.c.number == top, false()),
        latest_submitted=func.coalesce(
            table.c.submitted_dt.is_not(None) & (table.c.number == top_submitted), false()),
        # Bookkeeping, not a change of the attempt: its onupdate time stays.
        updated_dt=table.c.updated_dt,
    ))


def _expire_markers(session: Session) -> None:
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Attempt):
            session.expire(instance, ["latest", "latest_submitted"])


_MARKED_BY = ("number", "person_id", "resource_link_id", "submitted_dt")


@event.listens_for(Session, "after_flush")
def _mark_latest_after_flush(session: Session, _context: Any) -> None:
    """Keep the latest markers of the people and activities whose attempts this flush added,
    submitted, moved or deleted (a moved attempt: the old person's or activity's too)."""
    pairs = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(instance, Attempt):
            continue
        state = inspect(instance)
        if instance in session.dirty and not any(
                state.attrs[name].history.has_changes() for name in _MARKED_BY):
            continue
        pairs.update(itertools.product(state.attrs.person_id.history.sum(),
                                       state.attrs.resource_link_id.history.sum()))
    pairs = {pair for pair in pairs if None not in pair}
    if not pairs:
        return
    table = Attempt.__table__
    _update_markers([or_(*(and_(table.c.person_id == person_id,
                                table.c.resource_link_id == link_id)
                           for person_id, link_id in sorted(pairs)))], session)
    # Expired once the flush is over (not while it runs).
    session.info["attempt_markers_changed"] = True


@event.listens_for(Session, "after_flush_postexec")
def _expire_marked(session: Session, _context: Any) -> None:
    """Loaded attempts read their markers again after a flush that changed them."""
    if session.info.pop("attempt_markers_changed", False):
        _expire_markers(session)


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
    #: JSONB on PostgreSQL: the cohort filters and sorts by a dimension's score in SQL, and
    #: plain JSON is parsed again for every row it reads (keys come back in JSONB's order;
    #: pages order dimensions by the instrument).
    dimension_scores: Mapped[dict[str, dict[str, float]]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"))
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
