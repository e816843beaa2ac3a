"""Everything the tool holds about one person: export it, erase it, purge old attempts.

Each table is named here on purpose rather than found by walking foreign keys: a
mentor's id in a learner's session is not the mentor's personal data to delete with
them, and a walk could not tell the two apart. Where an erased person is only the author
or actor on someone else's record (a mentor's session with another learner, a goal they
wrote), the record stays with that person and the author becomes the platform's
"erased person" placeholder, which holds no personal data.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from lti_tool.extensions import db
from lti_tool.gradebook.models import ScoreRecord
from lti_tool.identity import audit
from lti_tool.identity.audit import AuditEntry
from lti_tool.identity.models import Course, Membership, Person, utcnow
from lti_tool.lti.models import LaunchSession
from lti_tool.mentoring.models import (
    ActionItem,
    AgendaPart,
    AgendaTemplate,
    AvailabilitySlot,
    CalendarFeed,
    Goal,
    GoalCheckIn,
    MentoringSession,
    Note,
    NoteVisibility,
    SessionReflection,
    TimezonePreference,
)
from lti_tool.mentoring.programme.models import MentorAssignment, SessionRating
from lti_tool.notifications.models import MailPreference, Notification
from lti_tool.questionnaire.activity import RetakeRound
from lti_tool.questionnaire.models import Answer, Attempt, Result

#: The `sub` prefix of the placeholders that take over an erased person's authorship.
ERASED_PREFIX = "erased-"


class PersonNotFound(LookupError):
    """No person with that id."""


def _plain(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row's columns as JSON-ready values."""
    out = {}
    for column in row.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(row, column.key)
        if isinstance(value, datetime):
            value = value.isoformat() + "Z"
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "value"):  # enums
            value = value.value
        out[column.key] = value
    return out


def export_person(person_id: int, *, for_learner: bool = False) -> dict[str, Any]:
    """All data about a person, as one JSON-ready document.

    `for_learner`: the copy a learner downloads themselves holds only the notes shared
    with them. Notes a mentor keeps for themself alone are in no export at all (not even
    an operator's): they never leave their author's pages.
    """
    person = db.session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    courses = {c.id: c for c in db.session.scalars(
        select(Course).join(Membership).where(Membership.person_id == person_id))}
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.person_id == person_id).order_by(Attempt.id)).all()
    sessions = db.session.scalars(select(MentoringSession).where(
        MentoringSession.learner_id == person_id).order_by(MentoringSession.start_dt)).all()
    notes_query = select(Note).where(Note.session_id.in_([s.id for s in sessions]),
                                     Note.visibility != NoteVisibility.AUTHOR)
    if for_learner:
        notes_query = notes_query.where(Note.visibility == NoteVisibility.LEARNER)
    notes = db.session.scalars(notes_query.order_by(Note.id)).all()
    goals = db.session.scalars(
        select(Goal).where(Goal.learner_id == person_id).order_by(Goal.id)).all()
    document: dict[str, Any] = {
        "exported_at": utcnow().isoformat() + "Z",
        "person": {**_plain(person), "platform": person.platform.issuer},
        "courses": [
            {**_plain(m, skip=("person_id",)), "course": courses[m.course_id].display_title}
            for m in db.session.scalars(select(Membership).where(
                Membership.person_id == person_id))
        ],
        "questionnaire_attempts": [
            {
                **_plain(a),
                "answers": {x.item_id: x.value for x in a.answers},
                "result": _plain(a.result) if a.result else None,
            }
            for a in attempts
        ],
        "grade_deliveries": [_plain(r) for r in db.session.scalars(
            select(ScoreRecord).where(ScoreRecord.person_id == person_id))],
        "mentoring_sessions": [
            {**_session_plain(s, for_learner),
             "notes": [_plain(n) for n in notes if n.session_id == s.id]}
            for s in sessions
        ],
        "goals": [{**_plain(g), "actions": [_plain(a) for a in g.actions],
                   "check_ins": [_plain(c) for c in g.check_ins]} for g in goals],
        "session_reflections": [_plain(r) for r in db.session.scalars(
            select(SessionReflection).where(SessionReflection.learner_id == person_id)
            .order_by(SessionReflection.id))],
        "session_ratings": [_plain(r) for r in db.session.scalars(
            select(SessionRating).where(SessionRating.learner_id == person_id))],
        "assigned_mentors": [_plain(a) for a in db.session.scalars(
            select(MentorAssignment).where(MentorAssignment.learner_id == person_id))],
        "launches": [_plain(s, skip=("claims",)) for s in db.session.scalars(
            select(LaunchSession).where(LaunchSession.person_id == person_id))],
    }
    if not for_learner:
        document["as_mentor"] = {
            "sessions_held": db.session.scalar(select(db.func.count()).select_from(
                MentoringSession).where(MentoringSession.mentor_id == person_id)),
            "availability_slots": db.session.scalar(select(db.func.count()).select_from(
                AvailabilitySlot).where(AvailabilitySlot.mentor_id == person_id)),
            # Counted, not copied: their text stays on the author's own pages.
            "notes_for_themself": db.session.scalar(select(db.func.count()).select_from(
                Note).where(Note.author_id == person_id,
                            Note.visibility == NoteVisibility.AUTHOR)),
        }
        document["audit_entries"] = [_plain(e) for e in db.session.scalars(
            select(AuditEntry).where(or_(AuditEntry.subject_person_id == person_id,
                                         AuditEntry.actor_person_id == person_id)))]
    return document


def _session_plain(session: MentoringSession, for_learner: bool) -> dict[str, Any]:
    """A session's columns; the learner's own copy leaves out a summary still in draft (the
    mentor has not published it to them)."""
    row = _plain(session)
    if for_learner and session.summary_published_dt is None:
        row.pop("summary_discussed", None)
        row.pop("summary_next", None)
    return row


def _placeholder(platform_id: int) -> Person:
    """A new 'erased person' that takes over one erased person's authorship.

    One per erasure, not one per platform: two erased mentors' sessions may overlap, and
    a shared placeholder would then break the rule that a mentor's sessions never do.
    """
    placeholder = Person(platform_id=platform_id, sub=ERASED_PREFIX + secrets.token_hex(8),
                         name="Erased person")
    db.session.add(placeholder)
    db.session.flush()
    return placeholder


def erase_person(person_id: int, *, operator: str = "") -> dict[str, int]:
    """Erase a person: answers, results, goals, notes, sessions, launches, the person.

    One audit entry remains, saying what was erased (counts, no personal data).
    """
    person = db.session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    if person.sub.startswith(ERASED_PREFIX):
        raise PersonNotFound(person_id)
    stand_in = _placeholder(person.platform_id).id
    counts: dict[str, int] = {}

    def run(name: str, statement) -> None:
        counts[name] = counts.get(name, 0) + (db.session.execute(statement).rowcount or 0)

    attempt_ids = select(Attempt.id).where(Attempt.person_id == person_id)
    result_ids = select(Result.id).where(Result.attempt_id.in_(attempt_ids))
    run("grade_deliveries", delete(ScoreRecord).where(or_(
        ScoreRecord.person_id == person_id, ScoreRecord.result_id.in_(result_ids))))
    # Goals (with their actions and check-ins) point at the person's attempts and sessions.
    own_goals = select(Goal.id).where(Goal.learner_id == person_id)
    run("actions", delete(ActionItem).where(ActionItem.goal_id.in_(own_goals)))
    run("check_ins", delete(GoalCheckIn).where(GoalCheckIn.goal_id.in_(own_goals)))
    run("goals", delete(Goal).where(Goal.learner_id == person_id))
    run("answers", delete(Answer).where(Answer.attempt_id.in_(attempt_ids)))
    run("results", delete(Result).where(Result.attempt_id.in_(attempt_ids)))
    run("attempts", delete(Attempt).where(Attempt.person_id == person_id))
    run("retakes_allowed_cleared", update(Attempt).where(
        Attempt.retake_allowed_by_id == person_id).values(retake_allowed_by_id=None))
    run("retakes_allowed_cleared", update(RetakeRound).where(
        RetakeRound.set_by_id == person_id).values(set_by_id=None))

    own_sessions = select(MentoringSession.id).where(MentoringSession.learner_id == person_id)
    run("session_ratings", delete(SessionRating).where(or_(
        SessionRating.learner_id == person_id, SessionRating.session_id.in_(own_sessions))))
    run("mentor_assignments", delete(MentorAssignment).where(or_(
        MentorAssignment.learner_id == person_id, MentorAssignment.mentor_id == person_id)))
    run("authorship_reassigned", update(MentorAssignment).where(
        MentorAssignment.assigned_by_id == person_id).values(assigned_by_id=None))
    run("session_reflections", delete(SessionReflection).where(
        SessionReflection.learner_id == person_id))
    run("notes", delete(Note).where(Note.session_id.in_(own_sessions)))
    run("agenda_parts", delete(AgendaPart).where(AgendaPart.session_id.in_(own_sessions)))
    run("mentoring_sessions", delete(MentoringSession).where(
        MentoringSession.learner_id == person_id))

    # Notes for their author alone have no other reader: they go with their author.
    run("notes", delete(Note).where(Note.author_id == person_id,
                                    Note.visibility == NoteVisibility.AUTHOR))
    # Authorship on other people's records passes to the placeholder.
    run("authorship_reassigned", update(Note).where(Note.author_id == person_id)
        .values(author_id=stand_in))
    run("authorship_reassigned", update(MentoringSession).where(
        MentoringSession.mentor_id == person_id).values(mentor_id=stand_in))
    run("authorship_reassigned", update(MentoringSession).where(
        MentoringSession.created_by_id == person_id).values(created_by_id=stand_in))
    run("authorship_reassigned", update(MentoringSession).where(
        MentoringSession.cancelled_by_id == person_id).values(cancelled_by_id=None))
    run("authorship_reassigned", update(Goal).where(Goal.created_by_id == person_id)
        .values(created_by_id=stand_in))
    run("authorship_reassigned", update(ActionItem).where(ActionItem.done_by_id == person_id)
        .values(done_by_id=None))
    run("authorship_reassigned", update(GoalCheckIn).where(GoalCheckIn.author_id == person_id)
        .values(author_id=stand_in))
    run("authorship_reassigned", update(AvailabilitySlot).where(
        AvailabilitySlot.mentor_id == person_id).values(mentor_id=stand_in))

    run("calendar_feeds", delete(CalendarFeed).where(CalendarFeed.mentor_id == person_id))
    run("agenda_templates", delete(AgendaTemplate).where(AgendaTemplate.mentor_id == person_id))
    run("time_zone", delete(TimezonePreference).where(TimezonePreference.person_id == person_id))
    run("emails", delete(Notification).where(Notification.recipient_id == person_id))
    run("email_settings", delete(MailPreference).where(MailPreference.person_id == person_id))
    run("launch_sessions", delete(LaunchSession).where(LaunchSession.person_id == person_id))
    run("memberships", delete(Membership).where(Membership.person_id == person_id))
    run("audit_entries_about", delete(AuditEntry).where(
        AuditEntry.subject_person_id == person_id))
    run("audit_entries_by", update(AuditEntry).where(
        AuditEntry.actor_person_id == person_id).values(actor_person_id=None))
    db.session.execute(delete(Person).where(Person.id == person_id))
    audit.record("data.erase", detail={"erased_person_id": person_id, "operator": operator,
                                       "counts": counts})
    db.session.flush()
    return counts


def purge_old_attempts(retention_days: int, *, now: datetime | None = None) -> int:
    """Delete attempts (answers, results, grade deliveries) started before the retention."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    old = select(Attempt.id).where(Attempt.started_dt < cutoff)
    results = select(Result.id).where(Result.attempt_id.in_(old))
    db.session.execute(delete(ScoreRecord).where(ScoreRecord.result_id.in_(results)))
    # A goal keeps its baseline figure; only the link to the purged attempt goes.
    db.session.execute(update(Goal).where(Goal.source_attempt_id.in_(old))
                       .values(source_attempt_id=None))
    db.session.execute(delete(Answer).where(Answer.attempt_id.in_(old)))
    db.session.execute(delete(Result).where(Result.attempt_id.in_(old)))
    purged = db.session.execute(delete(Attempt).where(Attempt.started_dt < cutoff)).rowcount
    db.session.execute(delete(LaunchSession).where(LaunchSession.expires_dt < cutoff))
    audit.record("data.purge", detail={"retention_days": retention_days,
                                       "attempts": purged or 0})
    db.session.flush()
    return purged or 0
