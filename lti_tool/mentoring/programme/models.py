"""The programme's records: how a course assigns mentors, who mentors whom, and how learners
rated the sessions they attended.

Whether a mentor may see a learner is decided in one place, mentoring/scope.py, from these
rows; nothing else reads them to grant access.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Person, utcnow


def _enum(kind: type[enum.Enum]):
    return db.Enum(kind, native_enum=False, length=16,
                   values_callable=lambda members: [m.value for m in members])


class CaseloadMode(enum.StrEnum):
    """Whether every mentor of a course sees every learner, or only those assigned to them."""

    EVERYONE = "everyone"
    ASSIGNED = "assigned"

    @property
    def label(self) -> str:
        """The mode as the settings form says it."""
        return {"everyone": _l("Every mentor sees every learner"),
                "assigned": _l("Mentors are assigned to learners")}[self.value]


class AssignmentSource(enum.StrEnum):
    """How an assignment was made."""

    HAND = "hand"
    CSV = "csv"
    BALANCED = "balanced"


class ProgrammeSettings(db.Model):
    """A course's mentoring programme settings; a course without a row runs the defaults."""

    __tablename__ = "mentoring_programme"
    __table_args__ = (UniqueConstraint("course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    mode: Mapped[CaseloadMode] = mapped_column(_enum(CaseloadMode), default=CaseloadMode.EVERYONE)
    #: In "assigned" mode: assistants may switch from their caseload to the whole course.
    assistants_see_course: Mapped[bool] = mapped_column(default=False)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MentorAssignment(db.Model):
    """One mentor assigned to one learner in a course (a learner may have several)."""

    __tablename__ = "mentoring_assignment"
    __table_args__ = (
        UniqueConstraint("course_id", "mentor_id", "learner_id"),
        Index("ix_mentoring_assignment_course_learner", "course_id", "learner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    source: Mapped[AssignmentSource] = mapped_column(_enum(AssignmentSource))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    learner: Mapped[Person] = relationship(foreign_keys=[learner_id])


class SessionRating(db.Model):
    """A learner's rating (1-5) of a session they attended, and what helped."""

    __tablename__ = "mentoring_session_rating"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One rating per session: a session has one learner.
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    rating: Mapped[int]
    #: What helped, in the learner's words (may be empty).
    helped: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
