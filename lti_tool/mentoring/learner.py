"""One learner as their mentor sees them: profile beside the course average, answers, attempts.

A learner is found only through a membership in the launch's course, and an attempt only
among that learner's attempts in the same course, so an id from another course or platform
finds nothing, exactly like an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Role, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.models import Goal, GoalStatus
from lti_tool.mentoring.scope import learner_reach, sees_answers
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.activity import answers_shown_to_mentors
from lti_tool.questionnaire.comparison import ComparisonView, compare
from lti_tool.questionnaire.models import Answer, Attempt
from lti_tool.questionnaire.results import ResultsView, results_view


class LearnerNotFound(Exception):
    """No such learner (or attempt) in the launch's course."""


@dataclass(frozen=True)
class AnswerLine:
    """One statement of an attempt with the learner's answer."""

    number: int
    item_id: str
    text: str
    #: The dimension's name; None for an attention check.
    dimension: str | None
    value: int | None
    label: str | None
    reverse: bool
    #: For an attention check: whether the expected answer was given.
    check_passed: bool | None


@dataclass(frozen=True)
class AttemptLine:
    """One of the learner's attempts in the course."""

    id: int
    number: int
    activity: str
    in_this_activity: bool
    started_dt: datetime
    submitted_dt: datetime | None
    answered: int
    total: int
    retake_allowed_dt: datetime | None


@dataclass(frozen=True)
class LearnerDetail:
    """Everything the learner page shows."""

    person_id: int
    name: str
    email: str | None
    active: bool
    attempts: tuple[AttemptLine, ...]
    selected: AttemptLine | None
    answers: tuple[AnswerLine, ...]
    #: Why the answers are not shown: "activity" (the activity hides them from mentors),
    #: "site_admin" (a site administrator without a mentor role here); None when shown.
    answers_hidden: str | None
    #: The selected attempt's results (None while it is in progress).
    results: ResultsView | None
    #: The learner's first and latest submitted attempts in the course side by side (None
    #: with fewer than two).
    comparison: ComparisonView | None
    #: The latest attempt in the launch's activity is submitted and no retake is allowed yet.
    can_allow_retake: bool
    retake_allowed_dt: datetime | None
    #: When the allowed retake opens (None: at once).
    retake_from_dt: datetime | None = None
    #: The learner's active goals in the course with a target date still ahead: a retake at
    #: a goal's target date shows whether it was reached. (title, date), soonest first.
    goal_dates: tuple[tuple[str, date], ...] = ()


def learner_detail(
    launch: LaunchContext, person_id: int, attempt_id: int | None = None
) -> LearnerDetail:
    """The learner page for a learner of the launch's course; LearnerNotFound otherwise."""
    membership = None
    if launch.course_id is not None:
        membership = db.session.scalar(
            select(Membership)
            .options(joinedload(Membership.person))
            .where(Membership.course_id == launch.course_id, Membership.person_id == person_id,
                   Membership.role == Role.LEARNER, learner_reach(launch, Membership.person_id))
        )
    if membership is None:
        raise LearnerNotFound(f"person {person_id} is not a learner in course {launch.course_id}")
    person = membership.person
    attempts = db.session.scalars(
        select(Attempt)
        .options(joinedload(Attempt.resource_link))
        .where(Attempt.person_id == person.id, Attempt.course_id == launch.course_id)
        .order_by(Attempt.started_dt, Attempt.id)
    ).all()
    counts = dict(db.session.execute(
        select(Answer.attempt_id, func.count(Answer.id))
        .where(Answer.attempt_id.in_([attempt.id for attempt in attempts]))
        .group_by(Answer.attempt_id)
    ).all()) if attempts else {}
    lines = tuple(_attempt_line(attempt, counts.get(attempt.id, 0), launch) for attempt in attempts)
    selected = _select(attempts, attempt_id, launch)
    in_activity = [a for a in attempts if a.resource_link_id == launch.resource_link_id]
    latest_here = max(in_activity, key=lambda a: a.number, default=None)
    hidden = None
    if selected is not None and not sees_answers(launch, True):
        hidden = "site_admin"
    elif selected is not None and not answers_shown_to_mentors(selected.resource_link_id):
        hidden = "activity"
    results = None
    if selected is not None and selected.is_submitted:
        results = results_view(selected, launch.locale, chart_name=person.display_name,
                               chart_id="learner-profile-chart")
    done = sorted((a for a in attempts if a.is_submitted and a.result is not None),
                  key=lambda a: (a.submitted_dt, a.id))
    comparison = None
    if len(done) >= 2:
        comparison = compare(done[0], done[-1], launch.locale, name=person.display_name,
                             chart_id="learner-comparison-chart")
    return LearnerDetail(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        active=membership.active,
        attempts=lines,
        selected=next((line for line in lines if selected and line.id == selected.id), None),
        answers=(_answers(selected, launch.locale)
                 if selected is not None and hidden is None else ()),
        answers_hidden=hidden,
        results=results,
        comparison=comparison,
        can_allow_retake=bool(latest_here and latest_here.is_submitted
                              and not latest_here.retake_allowed),
        retake_allowed_dt=latest_here.retake_allowed_dt if latest_here else None,
        retake_from_dt=latest_here.retake_from_dt if latest_here else None,
        goal_dates=_goal_dates(person.id, launch.course_id),
    )


def _goal_dates(person_id: int, course_id: int) -> tuple[tuple[str, date], ...]:
    rows = db.session.execute(
        select(Goal.title, Goal.target_date)
        .where(Goal.learner_id == person_id, Goal.course_id == course_id,
               Goal.status == GoalStatus.ACTIVE, Goal.target_date >= utcnow().date())
        .order_by(Goal.target_date, Goal.id)
    ).all()
    return tuple((title, target) for title, target in rows)


def _select(attempts: list[Attempt], attempt_id: int | None,
            launch: LaunchContext) -> Attempt | None:
    if attempt_id is not None:
        for attempt in attempts:
            if attempt.id == attempt_id:
                return attempt
        raise LearnerNotFound(f"attempt {attempt_id} is not this learner's in this course")
    # By default the latest result in this activity, else its latest attempt, else any.
    here = [a for a in attempts if a.resource_link_id == launch.resource_link_id]
    for candidates in ([a for a in here if a.is_submitted], here, attempts):
        if candidates:
            return max(candidates, key=lambda a: (a.started_dt, a.id))
    return None


def _attempt_line(attempt: Attempt, answered: int, launch: LaunchContext) -> AttemptLine:
    link = attempt.resource_link
    return AttemptLine(
        id=attempt.id,
        number=attempt.number,
        activity=(link.title if link and link.title else "Questionnaire"),
        in_this_activity=attempt.resource_link_id == launch.resource_link_id,
        started_dt=attempt.started_dt,
        submitted_dt=attempt.submitted_dt,
        answered=answered,
        total=len(delivery.instrument_for(attempt).items),
        retake_allowed_dt=attempt.retake_allowed_dt,
    )


def _answers(attempt: Attempt, locale: str | None) -> tuple[AnswerLine, ...]:
    instrument = delivery.instrument_for(attempt)
    given = delivery.answers_of(attempt)
    lines = []
    for number, item in enumerate(instrument.items, start=1):
        value = given.get(item.id)
        dimension = (None if item.is_attention_check
                     else instrument.dimension(item.dimension_id).name.get(locale))
        lines.append(AnswerLine(
            number=number,
            item_id=item.id,
            text=item.text.get(locale),
            dimension=dimension,
            value=value,
            label=instrument.scale.label(value).get(locale) if value is not None else None,
            reverse=item.reverse,
            check_passed=(value == item.attention_check_expected
                          if item.is_attention_check and value is not None else None),
        ))
    return tuple(lines)
