"""A learner's development plan: results in brief, goals with action plans, and sessions.

The learner reads their own plan; a mentor reads any learner's they may see, with the notes
meant for mentors besides (see notes.py). `plan_summaries` gives the cohort page its columns
for every learner at once, in one query whatever the cohort's size.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.identity.models import Person, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import dimension_names, instrument_of, latest_result
from lti_tool.mentoring.booking import (
    BookingRules,
    course_sessions,
    split_upcoming,
    upcoming_count,
)
from lti_tool.mentoring.goals import learner_goals
from lti_tool.mentoring.models import (
    ActionItem,
    Goal,
    GoalStatus,
    MentoringSession,
    Note,
    Proposal,
    SessionStatus,
)
from lti_tool.mentoring.notes import learner_notes, mentor_only_notes
from lti_tool.mentoring.scope import (
    course_of,
    learner_in_course,
    observed_learner,
    require_learner,
)
from lti_tool.mentoring.slots import open_slots
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.models import Result
from lti_tool.questionnaire.results import reading_of
from lti_tool.sql_lists import in_bound_ids


@dataclass(frozen=True)
class PlanSummary:
    """One learner's plan in a few figures, for the cohort page."""

    next_session_dt: datetime | None
    active_goals: int
    achieved_goals: int
    #: The mean progress of the active goals (0..100); None without any.
    progress: int | None
    #: Undone items of active goals that were due before today.
    overdue_actions: int


def plan_summaries(course_id: int, now: datetime | None = None,
                   today: date | None = None,
                   learner_ids: Collection[int] | None = None) -> dict[int, PlanSummary]:
    """Person id → PlanSummary for every learner of the course (of `learner_ids` only, when
    given: a page of the cohort) with a session or a goal.

    One statement whatever the number of learners (see _plan_statement). "Today" for overdue
    actions is the UTC date unless the caller passes the viewer's.
    """
    now = now or utcnow()
    values = {"plan_course": course_id, "plan_now": now, "plan_today": today or now.date()}
    if learner_ids is not None:
        values["plan_learners"] = list(learner_ids)
    next_sessions: dict[int, datetime] = {}
    goals: dict[int, dict[GoalStatus, tuple[int, float | None]]] = {}
    overdue: dict[int, int] = {}
    for part, learner_id, when, status, count, progress in db.session.execute(
            _plan_statement(learner_ids is not None, db.session.get_bind().dialect.name),
            values):
        if part == _NEXT_SESSION:
            next_sessions[learner_id] = when
        elif part == _GOALS:
            goals.setdefault(learner_id, {})[GoalStatus(status)] = (count, progress)
        else:
            overdue[learner_id] = count
    summaries = {}
    for learner_id in {*next_sessions, *goals, *overdue}:
        counts = goals.get(learner_id, {})
        active, progress = counts.get(GoalStatus.ACTIVE, (0, None))
        summaries[learner_id] = PlanSummary(
            next_session_dt=next_sessions.get(learner_id),
            active_goals=active,
            achieved_goals=counts.get(GoalStatus.ACHIEVED, (0, None))[0],
            progress=round(progress) if progress is not None else None,
            overdue_actions=overdue.get(learner_id, 0),
        )
    return summaries


#: What each row of _plan_statement tells.
_NEXT_SESSION, _GOALS, _OVERDUE = 1, 2, 3


@cache
def _plan_statement(of_learners: bool, dialect: str) -> CompoundSelect:
    """plan_summaries' statement, built once per shape and database, with the course, the
    time, the date and (`of_learners`) the learners' ids bound.

    Three grouped selects in one UNION ALL: each learner's next session, their agreed goals
    by status (how many, mean progress) and their overdue actions, one row per learner and
    part, `part` telling which (1, 2, 3). One round trip instead of three: on PostgreSQL each
    costs more than these selects do. The columns a part does not fill are NULL; the first
    select's carry the types (the next session's time is converted as a date and time)."""
    # Each takes its column's type where it is compared.
    course, now, today = (bindparam(name) for name in ("plan_course", "plan_now", "plan_today"))

    def among(column: Any) -> Any:
        return in_bound_ids(column, "plan_learners", dialect) if of_learners else true()

    next_sessions = (
        select(literal(_NEXT_SESSION).label("part"), MentoringSession.learner_id,
               func.min(MentoringSession.start_dt).label("next_dt"),
               cast(null(), String).label("status"), cast(null(), Integer).label("count"),
               cast(null(), Float).label("progress"))
        .where(MentoringSession.course_id == course,
               MentoringSession.status == SessionStatus.SCHEDULED,
               MentoringSession.end_dt > now, among(MentoringSession.learner_id))
        .group_by(MentoringSession.learner_id)
    )
    goals = (
        select(literal(_GOALS), Goal.learner_id, null(), cast(Goal.status, String),
               func.count(Goal.id), cast(func.avg(Goal.progress), Float))
        .where(Goal.course_id == course, Goal.proposal == Proposal.AGREED,
               among(Goal.learner_id))
        .group_by(Goal.learner_id, Goal.status)
    )
    overdue = (
        select(literal(_OVERDUE), Goal.learner_id, null(), null(), func.count(ActionItem.id),
               null())
        .join(ActionItem, ActionItem.goal_id == Goal.id)
        .where(Goal.course_id == course, Goal.status == GoalStatus.ACTIVE,
               Goal.proposal == Proposal.AGREED, ActionItem.proposal == Proposal.AGREED,
               ActionItem.done_dt.is_(None), ActionItem.due_date < today,
               among(Goal.learner_id))
        .group_by(Goal.learner_id)
    )
    return union_all(next_sessions, goals, overdue)


@dataclass(frozen=True)
class ResultSummary:
    """The learner's latest result in brief."""

    attempt_id: int
    #: Whether the result page can be opened from this launch (same activity).
    in_this_activity: bool
    submitted_dt: datetime
    overall_text: str
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]


@dataclass(frozen=True)
class SessionEntry:
    """A session with the notes the reader may see."""

    session: MentoringSession
    learner_notes: tuple[Note, ...]
    #: Only ever filled for a mentor: the notes below learner level they may read.
    mentor_notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Everything a development plan page shows."""

    learner: Person
    result: ResultSummary | None
    #: The instrument version of the learner's latest result (the current one without).
    instrument: Instrument
    goals: tuple[Goal, ...]
    upcoming: tuple[SessionEntry, ...]
    past: tuple[SessionEntry, ...]
    #: For learners: slots they could book now, and whether the limit lets them.
    open_slots: int = 0
    may_book: bool = False

    def dimension_names(self, goal: Goal, locale: str | None) -> list[str]:
        """The names of a goal's dimensions."""
        return dimension_names(self.instrument, goal.dimension_ids, locale)


def learner_plan(launch: LaunchContext, now: datetime | None = None,
                 rules: BookingRules | None = None) -> Plan:
    """The launch's learner's own plan: learner-level notes only."""
    require_learner(launch)
    now = now or utcnow()
    rules = rules or BookingRules.from_config()
    course_id = course_of(launch)
    learner = db.session.get(Person, launch.person_id)
    plan = _plan(launch, learner, now, private=False)
    booked = upcoming_count(course_id, learner.id, now)
    return replace(plan, open_slots=len(open_slots(launch, now, rules)),
                   may_book=booked < rules.learner_max_upcoming)


def mentor_plan(launch: LaunchContext, learner_id: int, now: datetime | None = None) -> Plan:
    """A learner's plan as a mentor of the course reads it: the notes they may read."""
    learner = learner_in_course(launch, learner_id)
    return _plan(launch, learner, now or utcnow(), private=True)


def handover_plan(launch: LaunchContext, learner_id: int, now: datetime | None = None) -> Plan:
    """A learner's plan as a mentor of the course hands it over: learner-level notes only."""
    learner = learner_in_course(launch, learner_id)
    return _plan(launch, learner, now or utcnow(), private=False)


def observer_plan(launch: LaunchContext, learner_id: int, now: datetime | None = None) -> Plan:
    """An observed learner's plan as the observer may read it: what the learner sees."""
    learner = observed_learner(launch, learner_id)
    return _plan(launch, learner, now or utcnow(), private=False)


def _plan(launch: LaunchContext, learner: Person, now: datetime, *, private: bool) -> Plan:
    course_id = course_of(launch)
    sessions = course_sessions(course_id, learner_id=learner.id)
    ids = [session.id for session in sessions]
    shared = learner_notes(ids)
    mentors_only = mentor_only_notes(launch, ids) if private else {}

    def entry(session: MentoringSession) -> SessionEntry:
        return SessionEntry(session, tuple(shared[session.id]),
                            tuple(mentors_only.get(session.id, ())))

    upcoming, past = split_upcoming(sessions, now)
    result = latest_result(course_id, learner.id)
    return Plan(
        learner=learner,
        result=_result_summary(launch, result),
        instrument=instrument_of(result),
        goals=tuple(learner_goals(course_id, learner.id)),
        upcoming=tuple(entry(s) for s in upcoming),
        past=tuple(entry(s) for s in past),
    )


def _result_summary(launch: LaunchContext, result: Result | None) -> ResultSummary | None:
    if result is None:
        return None
    instrument, reading = reading_of(result)

    def names(entries) -> tuple[str, ...]:
        return tuple(instrument.dimension(entry.dimension_id).name.get(launch.locale)
                     for entry in entries)

    return ResultSummary(
        attempt_id=result.attempt.id,
        in_this_activity=result.attempt.resource_link_id == launch.resource_link_id,
        submitted_dt=result.attempt.submitted_dt,
        overall_text=display(result.overall, launch.locale),
        strengths=names(reading.strengths),
        improvements=names(reading.areas),
    )


def plan_export(launch: LaunchContext, now: datetime | None = None) -> dict[str, Any]:
    """The launch's learner's own plan as JSON-ready data (learner-level notes, UTC times)."""
    plan = learner_plan(launch, now)
    result = plan.result

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() + "Z" if moment is not None else None

    return {
        "learner": plan.learner.display_name,
        "course": launch.course_title,
        "results": None if result is None else {
            "submitted_utc": iso(result.submitted_dt), "overall": result.overall_text,
            "strengths": list(result.strengths), "areas_to_develop": list(result.improvements),
        },
        "goals": [{
            "title": goal.title, "description": goal.description,
            "dimensions": plan.dimension_names(goal, launch.locale),
            "measure": goal.measure, "baseline": goal.baseline, "target": goal.target_value,
            "specific": goal.specific, "measurable": goal.measurable,
            "achievable": goal.achievable, "relevant": goal.relevant,
            "target_date": goal.target_date.isoformat(), "status": goal.status.value,
            "progress": goal.progress, "attainment": goal.attainment,
            "check_ins": [{
                "written_utc": iso(entry.created_dt), "by": entry.by.value,
                "progress": entry.progress, "value": entry.value, "note": entry.note,
            } for entry in goal.check_ins],
            "actions": [{
                "title": action.title, "owner": action.owner.value,
                "due_date": action.due_date.isoformat() if action.due_date else None,
                "done_utc": iso(action.done_dt), "reflection": action.reflection,
            } for action in goal.actions],
        } for goal in plan.goals],
        "sessions": [{
            "start_utc": iso(entry.session.start_dt), "end_utc": iso(entry.session.end_dt),
            "mentor": entry.session.mentor.display_name, "mode": entry.session.mode.value,
            "location": entry.session.location, "meeting_url": entry.session.meeting_url,
            "agenda": entry.session.agenda, "status": entry.session.status.value,
            "cancel_reason": entry.session.cancel_reason,
            "your_questions": entry.session.learner_questions,
            # A summary reaches the learner only once published; a draft is the mentor's.
            "summary": None if entry.session.summary_published_dt is None else {
                "published_utc": iso(entry.session.summary_published_dt),
                "discussed": entry.session.summary_discussed,
                "next_steps": entry.session.summary_next,
                "acknowledged_utc": iso(entry.session.summary_acknowledged_dt),
            },
            "notes": [{"written_utc": iso(note.created_dt), "text": note.body}
                      for note in entry.learner_notes],
        } for entry in (*plan.upcoming, *plan.past)],
    }
