"""Does the mentoring work? The programme's figures for the course's lead mentor.

Sessions held, attendance and no-show rates, goals set and attained, overdue actions, the
change per dimension of learners who answered twice, and how learners rated their sessions.
Every figure says how many people it rests on; one resting on fewer than MIN_PEOPLE is
suppressed, so a figure never describes one or two identifiable learners.

Goals count as attained when their status is "achieved" (the goal's own status: the
programme has no separate attainment scale yet).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.figures import display, signed_text
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.models import (
    ActionItem,
    Goal,
    MentoringSession,
    Proposal,
    SessionStatus,
)
from lti_tool.mentoring.programme.models import SessionRating
from lti_tool.mentoring.scope import course_of, require_lead
from lti_tool.questionnaire.measurement import Change, change_verdict, reliable_change_index
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.reference import precision_for
from lti_tool.questionnaire.versions import current_instrument, get_instrument

#: The fewest people a figure may rest on before it is suppressed.
MIN_PEOPLE = 5


@dataclass(frozen=True)
class Figure:
    """One number of the evaluation and how many people it rests on."""

    key: str
    label: str
    value: float | None
    people: int
    #: "count", "percent" or "mean".
    kind: str = "count"

    @property
    def suppressed(self) -> bool:
        """Whether the figure rests on too few people to be shown."""
        return self.people < MIN_PEOPLE or self.value is None

    @property
    def people_text(self) -> str:
        """How many people the figure rests on; a small number is itself not shown."""
        return str(self.people) if self.people >= MIN_PEOPLE else str(
            _l("fewer than %(min)d", min=MIN_PEOPLE))

    def text(self, locale: str | None) -> str:
        """The figure as people read it, or the reason it is not shown."""
        if self.people < MIN_PEOPLE:
            return str(_l("fewer than %(min)d", min=MIN_PEOPLE))
        if self.value is None:
            return "—"
        if self.kind == "percent":
            return f"{display(100 * self.value, locale, digits=0)} %"
        if self.kind == "mean":
            return display(self.value, locale)
        if self.kind == "change":
            return signed_text(self.value, locale)
        return str(int(self.value))


@dataclass(frozen=True)
class DimensionChange:
    """Before and after for one dimension, over learners with two submitted attempts."""

    dimension_id: str
    name: str
    people: int
    before: Figure
    after: Figure
    change: Figure
    increased: Figure
    decreased: Figure


@dataclass(frozen=True)
class Evaluation:
    """Everything the programme page shows."""

    sessions: tuple[Figure, ...]
    goals: tuple[Figure, ...]
    changes: tuple[DimensionChange, ...]
    #: Learners with two submitted attempts (the base of `changes`).
    changed_people: int
    ratings: tuple[Figure, ...]
    #: Rating → how many sessions got it (each resting on the ratings' people).
    distribution: tuple[Figure, ...] = field(default_factory=tuple)


def evaluate(launch: LaunchContext, today: date | None = None,
             now: datetime | None = None) -> Evaluation:
    """The course's programme figures; only its lead mentor may see them."""
    require_lead(launch)
    course_id = course_of(launch)
    now = now or utcnow()
    today = today or now.date()
    return Evaluation(
        sessions=_sessions(course_id, now),
        goals=_goals(course_id, today),
        changes=(changes := _changes(course_id, launch.locale))[0],
        changed_people=changes[1],
        ratings=(ratings := _ratings(course_id))[0],
        distribution=ratings[1],
    )


def _sessions(course_id: int, now: datetime) -> tuple[Figure, ...]:
    rows = db.session.execute(
        select(MentoringSession.learner_id, MentoringSession.status)
        .where(MentoringSession.course_id == course_id, MentoringSession.start_dt <= now)
    ).all()
    held = [row for row in rows if row.status is SessionStatus.ATTENDED]
    missed = [row for row in rows if row.status is SessionStatus.NO_SHOW]
    due = held + missed
    people = len({row.learner_id for row in due})
    return (
        Figure("sessions_held", _l("Sessions held"), len(held),
               len({row.learner_id for row in held})),
        Figure("attendance_rate", _l("Attendance rate (held of those due)"),
               len(held) / len(due) if due else None, people, "percent"),
        Figure("no_show_rate", _l("No-show rate"),
               len(missed) / len(due) if due else None, people, "percent"),
    )


def _goals(course_id: int, today: date) -> tuple[Figure, ...]:
    # Agreed goals only: a learner's proposal awaiting a mentor is not a goal yet. A goal is
    # attained when its review rated it at the expected level or above (goal attainment
    # scaling 0..+2); the share is of the goals reviewed so far.
    goals = db.session.execute(
        select(Goal.id, Goal.learner_id, Goal.attainment)
        .where(Goal.course_id == course_id, Goal.proposal == Proposal.AGREED)
    ).all()
    people = len({goal.learner_id for goal in goals})
    reviewed = [goal for goal in goals if goal.attainment is not None]
    attained = [goal for goal in reviewed if goal.attainment >= 0]
    overdue = db.session.execute(
        select(ActionItem.id, Goal.learner_id).join(Goal, Goal.id == ActionItem.goal_id)
        .where(Goal.course_id == course_id, Goal.proposal == Proposal.AGREED,
               ActionItem.done_dt.is_(None), ActionItem.due_date < today)
    ).all()
    reviewed_people = len({goal.learner_id for goal in reviewed})
    return (
        Figure("goals_set", _l("Goals set"), len(goals), people),
        Figure("goals_reviewed", _l("Goals reviewed (attainment rated)"), len(reviewed),
               reviewed_people),
        Figure("goals_attained", _l("Goals attained (rated as expected or better)"),
               len(attained), reviewed_people),
        Figure("goals_attained_rate", _l("Share of reviewed goals attained"),
               len(attained) / len(reviewed) if reviewed else None, reviewed_people, "percent"),
        Figure("actions_overdue", _l("Actions overdue"), len(overdue), people),
    )


def _changes(course_id: int, locale: str | None) -> tuple[tuple[DimensionChange, ...], int]:
    """First and latest submitted attempt of each learner who has two, per dimension."""
    rows = db.session.execute(
        select(Attempt.person_id, Attempt.number, Attempt.instrument_id,
               Attempt.instrument_version, Result.dimension_scores)
        .join(Result, Result.attempt_id == Attempt.id)
        .where(Attempt.course_id == course_id, Attempt.submitted_dt.is_not(None))
        .order_by(Attempt.person_id, Attempt.submitted_dt, Attempt.number)
    ).all()
    by_person = defaultdict(list)
    for row in rows:
        by_person[row.person_id].append(row)
    pairs = [(found[0], found[-1]) for found in by_person.values() if len(found) >= 2]
    instrument = current_instrument()
    precisions = {}

    def _sem(row, dimension_id: str) -> float:
        # One precision per instrument version for the whole page, not one per learner.
        key = (row.instrument_id, row.instrument_version)
        if key not in precisions:
            precisions[key] = precision_for(get_instrument(*key))
        return precisions[key].sem(dimension_id)

    lines = []
    for dimension in instrument.dimensions:
        before, after, verdicts = [], [], []
        for first, last in pairs:
            try:
                start = float(first.dimension_scores[dimension.id]["score"])
                end = float(last.dimension_scores[dimension.id]["score"])
                rci = reliable_change_index(start, end, _sem(first, dimension.id),
                                            _sem(last, dimension.id))
            except (KeyError, TypeError, ValueError):
                continue
            before.append(start)
            after.append(end)
            verdicts.append(change_verdict(rci))
        people = len(before)
        difference = [end - start for start, end in zip(before, after, strict=True)]
        lines.append(DimensionChange(
            dimension.id, dimension.name.get(locale), people,
            Figure(f"{dimension.id}_before", _l("Before"), _mean(before), people, "mean"),
            Figure(f"{dimension.id}_after", _l("After"), _mean(after), people, "mean"),
            Figure(f"{dimension.id}_change", _l("Mean change"), _mean(difference), people,
                   "change"),
            Figure(f"{dimension.id}_increased", _l("Reliable increase"),
                   sum(1 for v in verdicts if v is Change.INCREASE), people),
            Figure(f"{dimension.id}_decreased", _l("Reliable decrease"),
                   sum(1 for v in verdicts if v is Change.DECREASE), people),
        ))
    return tuple(lines), len(pairs)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratings(course_id: int) -> tuple[tuple[Figure, ...], tuple[Figure, ...]]:
    rows = db.session.execute(
        select(SessionRating.learner_id, SessionRating.rating)
        .join(MentoringSession, MentoringSession.id == SessionRating.session_id)
        .where(MentoringSession.course_id == course_id)
    ).all()
    people = len({row.learner_id for row in rows})
    values = [row.rating for row in rows]
    summary = (
        Figure("ratings", _l("Sessions rated"), len(values), people),
        Figure("rating_mean", _l("Mean rating (1-5)"),
               sum(values) / len(values) if values else None, people, "mean"),
    )
    distribution = tuple(
        Figure(f"rating_{score}", _l("Rated %(score)d", score=score),
               sum(1 for value in values if value == score), people)
        for score in (1, 2, 3, 4, 5)
    )
    return summary, distribution


def csv_lines(evaluation: Evaluation, locale: str | None) -> Iterator[str]:
    """The evaluation as CSV (UTF-8 with a BOM): section, measure, value, people."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([str(value) for value in values])
        return buffer.getvalue()

    yield "\ufeff" + line([_l("Section"), _l("Measure"), _l("Value"), _l("People")])
    for section, figures in ((_l("Sessions"), evaluation.sessions),
                             (_l("Goals and actions"), evaluation.goals),
                             (_l("Session ratings"),
                              evaluation.ratings + evaluation.distribution)):
        for figure in figures:
            yield line([section, figure.label, figure.text(locale), figure.people_text])
    for change in evaluation.changes:
        for figure in (change.before, change.after, change.change, change.increased,
                       change.decreased):
            yield line([_l("Change: %(dimension)s", dimension=change.name), figure.label,
                        figure.text(locale), figure.people_text])
