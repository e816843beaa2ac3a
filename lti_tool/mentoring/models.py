"""Mentoring records: sessions and the slots learners book them from, goals with their action
plans, session notes, mentors' calendar feeds and each person's time zone.

Every row names its course, so every page finds it through the launch's course, never by a
bare id. Times are UTC in `*_dt` columns; dates that mean a day (a goal's target, an
action's due date) are plain dates.

No double booking is a database invariant on PostgreSQL: two exclusion constraints refuse a
session whose time range overlaps another live session of the same mentor or of the same
learner, whichever code writes it (see booking.py for the lock that makes the refusal name
the clash, and for SQLite, which has no such constraint).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Course, Person, utcnow


def _enum(kind: type[enum.Enum]):
    """Enums are stored as their values in a plain string column, as identity's Role is."""
    return db.Enum(kind, native_enum=False, length=16,
                   values_callable=lambda members: [m.value for m in members])


class SessionStatus(enum.StrEnum):
    """Where a session stands: booked, then attended or missed; or cancelled."""

    SCHEDULED = "scheduled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The status as people read it."""
        return {"scheduled": _l("Scheduled"), "attended": _l("Attended"),
                "no_show": _l("No-show"), "cancelled": _l("Cancelled")}[self.value]


class MeetingMode(enum.StrEnum):
    """Where a session takes place."""

    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        """The mode as people read it."""
        return _l("In person") if self is MeetingMode.IN_PERSON else _l("Online")


class GoalStatus(enum.StrEnum):
    """A goal is worked on, reached, or given up."""

    ACTIVE = "active"
    ACHIEVED = "achieved"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        """The status as people read it."""
        return {"active": _l("Active"), "achieved": _l("Achieved"),
                "dropped": _l("Dropped")}[self.value]


class ActionOwner(enum.StrEnum):
    """Who carries out an action item."""

    LEARNER = "learner"
    MENTOR = "mentor"


class Proposal(enum.StrEnum):
    """Whether a goal or action stands agreed, or is a learner's proposal awaiting a mentor."""

    AGREED = "agreed"
    PROPOSED = "proposed"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        """The state as people read it."""
        return {"agreed": _l("Agreed"), "proposed": _l("Proposed by the learner"),
                "declined": _l("Declined")}[self.value]


class AgendaKind(enum.StrEnum):
    """What an agenda part of a session is for; the session guide shows each its material."""

    OPENING = "opening"
    QUESTIONNAIRE = "questionnaire"
    RESULTS = "results"
    STRENGTHS = "strengths"
    AREAS = "areas"
    GOALS = "goals"
    CLOSE = "close"
    OTHER = "other"


class ReflectionKind(enum.StrEnum):
    """A learner's reflection before a session (preparation) or after it."""

    BEFORE = "before"
    AFTER = "after"


class NoteVisibility(enum.StrEnum):
    """Who reads a note besides its author: nobody, the course's mentors, or the learner too.

    Before three levels existed, "private" meant "for the course's mentors" and "shared" meant
    "with the learner"; the migration of 2026-12 renamed them to MENTORS and LEARNER.
    """

    #: The author alone: no other mentor, no learner, observer, export or calendar.
    AUTHOR = "author"
    #: The mentors of the course who may see the learner (see scope.py), not site admins.
    MENTORS = "mentors"
    #: The learner too (and their observers, who read what the learner reads).
    LEARNER = "learner"

    @property
    def label(self) -> str:
        """Who reads a note of this level, as its badge says."""
        return {"author": _l("Private: only you"), "mentors": _l("Shared with the mentors"),
                "learner": _l("Shared with the learner")}[self.value]


#: Every status but cancelled holds a time in the mentor's and the learner's calendars.
_NOT_CANCELLED = text("status <> 'cancelled'")


class AvailabilitySlot(db.Model):
    """A time a mentor offers; a learner books it, and it then holds that one session."""

    __tablename__ = "mentoring_slot"
    __table_args__ = (
        CheckConstraint("end_dt > start_dt", name="slot_ends_after_start"),
        Index("ix_mentoring_slot_course_start", "course_id", "start_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    start_dt: Mapped[datetime]
    end_dt: Mapped[datetime]
    mode: Mapped[MeetingMode] = mapped_column(_enum(MeetingMode))
    location: Mapped[str] = mapped_column(String(255), default="")
    meeting_url: Mapped[str] = mapped_column(String(1024), default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when the mentor takes back an unbooked slot; it is then offered to nobody.
    withdrawn_dt: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    mentor: Mapped[Person] = relationship()


class MentoringSession(db.Model):
    """One meeting of a mentor with a learner (90 minutes by default)."""

    __tablename__ = "mentoring_session"
    __table_args__ = (
        CheckConstraint("end_dt > start_dt", name="ends_after_start"),
        Index("ix_mentoring_session_mentor_start", "mentor_id", "start_dt"),
        Index("ix_mentoring_session_learner_start", "learner_id", "start_dt"),
        Index("ix_mentoring_session_course_start", "course_id", "start_dt"),
        # [start, end) ranges: a session may start the minute the previous one ends.
        ExcludeConstraint(
            ("mentor_id", "="), (func.tsrange(text("start_dt"), text("end_dt")), "&&"),
            name="ex_mentoring_session_mentor_overlap", using="gist", where=_NOT_CANCELLED,
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            ("learner_id", "="), (func.tsrange(text("start_dt"), text("end_dt")), "&&"),
            name="ex_mentoring_session_learner_overlap", using="gist", where=_NOT_CANCELLED,
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The iCalendar UID: the same across reschedules, so calendars update the event.
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    #: The iCalendar SEQUENCE: raised on every change a calendar must pick up.
    sequence: Mapped[int] = mapped_column(default=0)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: The slot the learner booked it from; None when the mentor booked it directly.
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_slot.id"), index=True)
    start_dt: Mapped[datetime]
    end_dt: Mapped[datetime]
    mode: Mapped[MeetingMode] = mapped_column(_enum(MeetingMode))
    location: Mapped[str] = mapped_column(String(255), default="")
    meeting_url: Mapped[str] = mapped_column(String(1024), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    #: What the learner wants to ask, written before the session; the mentor reads it.
    learner_questions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus),
                                                  default=SessionStatus.SCHEDULED)
    #: The summary the mentor publishes to the learner after the session (the agreed goals
    #: and actions are those linked to the session); the learner acknowledges it.
    summary_discussed: Mapped[str] = mapped_column(Text, default="")
    summary_next: Mapped[str] = mapped_column(Text, default="")
    summary_published_dt: Mapped[datetime | None]
    summary_acknowledged_dt: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_dt: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    learner: Mapped[Person] = relationship(foreign_keys=[learner_id])
    slot: Mapped[AvailabilitySlot | None] = relationship()
    # No `notes` relationship on purpose: notes are read only through notes.py, which never
    # hands a private note to a learner's page.

    @property
    def is_cancelled(self) -> bool:
        """Whether the session was called off."""
        return self.status is SessionStatus.CANCELLED

    @property
    def minutes(self) -> int:
        """How long the session lasts."""
        return int((self.end_dt - self.start_dt).total_seconds() // 60)

    def is_upcoming(self, now: datetime) -> bool:
        """Whether the session is still to come (scheduled and not yet ended)."""
        return self.status is SessionStatus.SCHEDULED and self.end_dt > now


#: Goal attainment scaling: -2 much less than expected, 0 as expected, +2 much more.
ATTAINMENT_LEVELS = (-2, -1, 0, 1, 2)


def attainment_label(level: int) -> str:
    """A goal attainment scaling level as people read it."""
    return str({-2: _l("−2: much less than expected"), -1: _l("−1: somewhat less than expected"),
                0: _l("0: as expected"), 1: _l("+1: somewhat more than expected"),
                2: _l("+2: much more than expected")}[level])


class Goal(db.Model):
    """A development goal of a learner against one or more dimensions, SMART."""

    __tablename__ = "mentoring_goal"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("attainment BETWEEN -2 AND 2", name="attainment_range"),
        Index("ix_mentoring_goal_course_learner", "course_id", "learner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: A few words; a dimension's suggestion the goal started from goes into `description`.
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Ids of the instrument's dimensions the goal develops (at least one).
    dimension_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    specific: Mapped[str] = mapped_column(Text, default="")
    measurable: Mapped[str] = mapped_column(Text, default="")
    achievable: Mapped[str] = mapped_column(Text, default="")
    relevant: Mapped[str] = mapped_column(Text, default="")
    #: The "time-bound" of SMART: the day the goal should be reached by.
    target_date: Mapped[date] = mapped_column(Date)
    #: What is measured, e.g. "Empathy score at the next retake" or "user interviews held".
    measure: Mapped[str] = mapped_column(String(300), default="")
    #: The measure where the goal starts and where it should end (same unit as `measure`).
    baseline: Mapped[float | None]
    target_value: Mapped[float | None]
    #: The attempt whose result the goal came from (its score is the baseline).
    source_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"), index=True)
    #: The session the goal was agreed in, when it was set in a session guide.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_session.id"),
                                                   index=True)
    status: Mapped[GoalStatus] = mapped_column(_enum(GoalStatus), default=GoalStatus.ACTIVE)
    #: 0..100: the latest check-in's progress (kept here so the cohort page averages it in
    #: SQL), or worked out from the action plan while `progress_from_actions` is set and
    #: nobody has checked in.
    progress: Mapped[int] = mapped_column(default=0)
    progress_from_actions: Mapped[bool] = mapped_column(default=True)
    #: A learner's proposal stays PROPOSED until a mentor accepts (AGREED) or declines it.
    proposal: Mapped[Proposal] = mapped_column(_enum(Proposal), default=Proposal.AGREED)
    #: Why a mentor declined a proposal (the learner reads it).
    proposal_reply: Mapped[str] = mapped_column(Text, default="")
    #: Goal attainment scaling (-2..+2) given at review; None until reviewed.
    attainment: Mapped[int | None]
    reviewed_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: When the goal was marked achieved or dropped.
    closed_dt: Mapped[datetime | None]

    learner: Mapped[Person] = relationship(foreign_keys=[learner_id])
    actions: Mapped[list[ActionItem]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="ActionItem.id"
    )
    check_ins: Mapped[list[GoalCheckIn]] = relationship(
        back_populates="goal", cascade="all, delete-orphan",
        order_by="[GoalCheckIn.created_dt, GoalCheckIn.id]"
    )

    @property
    def attainment_text(self) -> str | None:
        """The attainment rating as people read it; None before review."""
        return attainment_label(self.attainment) if self.attainment is not None else None


class GoalCheckIn(db.Model):
    """A dated look at a goal by the learner or a mentor: how far it is, and a note."""

    __tablename__ = "mentoring_goal_checkin"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("mentoring_goal.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: Whether the learner or a mentor checked in (the learner's own view of it counts).
    by: Mapped[ActionOwner] = mapped_column(_enum(ActionOwner))
    progress: Mapped[int]
    #: The goal's measure at this check-in (e.g. interviews held so far), when given.
    value: Mapped[float | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="check_ins")
    author: Mapped[Person] = relationship()


class ActionItem(db.Model):
    """One step of a goal's action plan, carried out by the learner or the mentor."""

    __tablename__ = "mentoring_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("mentoring_goal.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[ActionOwner] = mapped_column(_enum(ActionOwner))
    due_date: Mapped[date | None] = mapped_column(Date)
    done_dt: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: A few words from whoever ticked it off: what was done, what was learnt.
    reflection: Mapped[str] = mapped_column(Text, default="")
    #: A learner's proposed action waits for a mentor like a proposed goal.
    proposal: Mapped[Proposal] = mapped_column(_enum(Proposal), default=Proposal.AGREED)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="actions")

    @property
    def is_done(self) -> bool:
        """Whether the item is ticked off."""
        return self.done_dt is not None

    def is_overdue(self, today: date) -> bool:
        """Not done and due before `today`."""
        return self.done_dt is None and self.due_date is not None and self.due_date < today


class Note(db.Model):
    """A note on a session: for its author alone, for the course's mentors, or for the learner."""

    __tablename__ = "mentoring_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: Read only through notes.py, which selects by level in SQL: AUTHOR notes for their
    #: author alone, MENTORS notes for mentors of the course; no learner page, export,
    #: calendar or feed selects either.
    visibility: Mapped[NoteVisibility] = mapped_column(_enum(NoteVisibility))
    body: Mapped[str] = mapped_column(Text)
    #: The agenda part the note was written in (None: the session as a whole).
    agenda_part_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_agenda_part.id"),
                                                       index=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[MentoringSession] = relationship()
    author: Mapped[Person] = relationship()


class AgendaPart(db.Model):
    """One time-boxed part of a session's agenda (opening 10 minutes, review of results 20...)."""

    __tablename__ = "mentoring_agenda_part"
    __table_args__ = (CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"), index=True)
    position: Mapped[int]
    kind: Mapped[AgendaKind] = mapped_column(_enum(AgendaKind))
    #: In the language of whoever set the agenda up, like a typed agenda.
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int]


class AgendaTemplate(db.Model):
    """A mentor's own agenda for new sessions in one course: parts with their minutes."""

    __tablename__ = "mentoring_agenda_template"
    __table_args__ = (UniqueConstraint("mentor_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    #: [{"kind": "opening", "title": "...", "minutes": 10}, ...]
    parts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SessionReflection(db.Model):
    """A learner's reflection on a session: before it (self-ratings of their strengths and
    areas, what they want from it) or after it."""

    __tablename__ = "mentoring_reflection"
    __table_args__ = (UniqueConstraint("session_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[ReflectionKind] = mapped_column(_enum(ReflectionKind))
    #: Dimension id → {"rating": 1..10, "text": "..."}: "does this match how you see
    #: yourself?" for each strength and area of the learner's latest result.
    ratings: Mapped[dict[str, dict]] = mapped_column(JSON, default=dict)
    #: Before: what they want from the session. After: what they take away from it.
    text: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarFeed(db.Model):
    """A mentor's private calendar subscription for one course, found by a secret token."""

    __tablename__ = "mentoring_calendar_feed"
    __table_args__ = (Index("ix_mentoring_calendar_feed_mentor_course", "mentor_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    #: SHA-256 of the token in the feed URL; the token itself is shown once and not kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when the mentor revokes the URL (or makes a new one); it then answers 404.
    revoked_dt: Mapped[datetime | None]
    last_used_dt: Mapped[datetime | None]


class TimezonePreference(db.Model):
    """The time zone a person's browser reported, remembered across launches."""

    __tablename__ = "person_timezone"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    #: An IANA zone name that zoneinfo knows, e.g. "Europe/Warsaw".
    timezone: Mapped[str] = mapped_column(String(64))
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
