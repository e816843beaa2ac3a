"""Goals against a learner's dimensions (SMART, with a measure, a target date and the attempt
they came from), their action plans, check-ins and review.

A mentor writes goals and action items; a learner ticks off their own items with a short
reflection. Progress is a history of dated check-ins by the learner or a mentor (a value and
a note); until the first check-in a goal's progress follows its action plan (done items of
all items). At review a mentor gives the goal an attainment rating (goal attainment scaling,
-2..+2) and a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import instrument_of, latest_result
from lti_tool.mentoring.models import (
    ATTAINMENT_LEVELS,
    ActionItem,
    ActionOwner,
    Goal,
    GoalCheckIn,
    GoalStatus,
    Proposal,
)
from lti_tool.mentoring.scope import (
    BadInput,
    NotAllowed,
    NotFound,
    course_of,
    learner_in_course,
    learner_reach,
    require_learner,
    require_mentor,
)
from lti_tool.mentoring.timezones import BadTime, parse_day

#: A title is a few words; the full wording goes into the description.
MAX_TITLE = 80
MAX_SMART = 2000
MAX_MEASURE = 300
MAX_NOTE = 1000
MAX_ACTION = 300
MAX_REFLECTION = 1000
#: The SMART fields besides the target date, in the order forms show them.
SMART_FIELDS = (
    ("specific", _l("Specific"), _l("What exactly will change? Who, what, where, how often?")),
    ("measurable", _l("Measurable"),
     _l("How will you both know it happened? Name the measure, where it starts and where it "
        "should end.")),
    ("achievable", _l("Achievable"),
     _l("Why is it within reach? What time, help or practice does it need?")),
    ("relevant", _l("Relevant"), _l("Why does it matter for the learner's Design Mindset?")),
)


@dataclass(frozen=True)
class GoalDraft:
    """A goal as the mentor's form gives it."""

    title: str
    dimension_ids: tuple[str, ...]
    specific: str
    measurable: str
    achievable: str
    relevant: str
    target_date: date
    status: GoalStatus
    description: str = ""
    measure: str = ""
    baseline: float | None = None
    target_value: float | None = None

    @classmethod
    def from_form(cls, form: Any) -> GoalDraft:
        """Read the goal form (a werkzeug MultiDict); BadInput naming the problem."""
        title = (form.get("title") or "").strip()
        if not title:
            raise BadInput(_l("Give the goal a title."))
        if len(title) > MAX_TITLE:
            raise BadInput(_l("Keep the title short (at most %(most)d characters); the full "
                              "wording belongs in the description.", most=MAX_TITLE))
        # Which ids exist depends on the learner's instrument version: checked when saved.
        dimension_ids = tuple(dict.fromkeys(form.getlist("dimension_ids")))
        if not dimension_ids:
            raise BadInput(_l("Link the goal to at least one dimension."))
        texts = {}
        for name, label, _ in (*SMART_FIELDS, ("description", _l("Description"), "")):
            texts[name] = (form.get(name) or "").strip()
            if len(texts[name]) > MAX_SMART:
                raise BadInput(_l("“%(field)s” is too long (at most %(most)d characters).",
                                  field=label, most=MAX_SMART))
        measure = (form.get("measure") or "").strip()
        if len(measure) > MAX_MEASURE:
            raise BadInput(_l("“%(field)s” is too long (at most %(most)d characters).",
                              field=_l("Measure"), most=MAX_MEASURE))
        baseline = read_number(form.get("baseline"), _l("the baseline"))
        target_value = read_number(form.get("target_value"), _l("the target value"))
        if (baseline is not None or target_value is not None) and not measure:
            raise BadInput(_l("Say what the baseline and the target measure."))
        try:
            target = parse_day(form.get("target_date"), _l("the target date"))
        except BadTime as exc:
            raise BadInput(str(exc)) from exc
        try:
            status = GoalStatus(form.get("status") or GoalStatus.ACTIVE)
        except ValueError as exc:
            raise BadInput(_l("Choose active, achieved or dropped.")) from exc
        return cls(title, dimension_ids, status=status, target_date=target, measure=measure,
                   baseline=baseline, target_value=target_value, **texts)


def read_number(text: str | None, what: object) -> float | None:
    """A form's optional number ("4.5" or "4,5"); BadInput naming `what` when unreadable."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError as exc:
        raise BadInput(_l("Give %(what)s as a number.", what=what)) from exc
    if number != number or abs(number) > 1e6:  # NaN, or nothing a person would count
        raise BadInput(_l("Give %(what)s as a number.", what=what))
    return number


@dataclass(frozen=True)
class CheckInDraft:
    """A check-in as a form gives it: progress 0..100, the measure's value, a note."""

    progress: int
    value: float | None
    note: str

    @classmethod
    def from_form(cls, form: Any) -> CheckInDraft:
        """Read the check-in form; BadInput naming the problem."""
        try:
            progress = int((form.get("progress") or "").strip())
        except ValueError as exc:
            raise BadInput(_l("Give the progress as a whole number from 0 to 100.")) from exc
        if not 0 <= progress <= 100:
            raise BadInput(_l("Give the progress as a whole number from 0 to 100."))
        note = (form.get("note") or "").strip()
        if len(note) > MAX_NOTE:
            raise BadInput(_l("The note is too long (at most %(most)d characters).",
                              most=MAX_NOTE))
        return cls(progress, read_number(form.get("value"), _l("the measure's value")), note)


@dataclass(frozen=True)
class ActionDraft:
    """An action item as the mentor's form gives it."""

    title: str
    owner: ActionOwner
    due_date: date | None

    @classmethod
    def from_form(cls, form: Any) -> ActionDraft:
        """Read the action form; BadInput naming the problem."""
        title = (form.get("title") or "").strip()
        if not title:
            raise BadInput(_l("Say what is to be done."))
        if len(title) > MAX_ACTION:
            raise BadInput(_l("The action is too long (at most %(most)d characters).",
                              most=MAX_ACTION))
        try:
            owner = ActionOwner(form.get("owner") or "")
        except ValueError as exc:
            raise BadInput(_l("Choose who does it: the learner or the mentor.")) from exc
        try:
            due = parse_day(form.get("due_date"), _l("the due date"), required=False)
        except BadTime as exc:
            raise BadInput(str(exc)) from exc
        return cls(title, owner, due)


def create_goal(launch: LaunchContext, learner_id: int | None, draft: GoalDraft,
                now: datetime | None = None, session_id: int | None = None) -> Goal:
    """The launch's mentor sets a goal for a learner of the course.

    The goal remembers the attempt of the learner's latest result (its scores are the
    baseline) and, when set in a session guide, the session.
    """
    require_mentor(launch)
    learner = learner_in_course(launch, learner_id)
    _check_dimensions(course_of(launch), learner.id, draft)
    result = latest_result(course_of(launch), learner.id)
    goal = Goal(course_id=course_of(launch), learner_id=learner.id,
                created_by_id=launch.person_id, progress=0, session_id=session_id,
                source_attempt_id=result.attempt_id if result is not None else None)
    _apply(goal, draft, now or utcnow())
    db.session.add(goal)
    db.session.flush()
    return goal


def update_goal(launch: LaunchContext, goal_id: int, draft: GoalDraft,
                now: datetime | None = None) -> Goal:
    """Change a goal of the course (its status and progress included)."""
    goal = goal_for_mentor(launch, goal_id)
    _check_dimensions(goal.course_id, goal.learner_id, draft)
    _apply(goal, draft, now or utcnow())
    db.session.flush()
    return goal


def _check_dimensions(course_id: int, learner_id: int, draft: GoalDraft) -> None:
    """BadInput unless every dimension exists in the learner's instrument version."""
    instrument = instrument_of(latest_result(course_id, learner_id))
    known = {dimension.id for dimension in instrument.dimensions}
    if not set(draft.dimension_ids) <= known:
        raise BadInput(_l("Link the goal to at least one dimension."))


def _apply(goal: Goal, draft: GoalDraft, now: datetime) -> None:
    goal.title, goal.description = draft.title, draft.description
    goal.dimension_ids = list(draft.dimension_ids)
    goal.specific, goal.measurable = draft.specific, draft.measurable
    goal.achievable, goal.relevant = draft.achievable, draft.relevant
    goal.measure, goal.baseline, goal.target_value = (draft.measure, draft.baseline,
                                                      draft.target_value)
    goal.target_date = draft.target_date
    _set_status(goal, draft.status, now)
    refresh_progress(goal)


def _set_status(goal: Goal, status: GoalStatus, now: datetime) -> None:
    if status is not goal.status:
        goal.closed_dt = None if status is GoalStatus.ACTIVE else now
    goal.status = status


def refresh_progress(goal: Goal) -> None:
    """Progress from the action plan (done of all items), until someone checks in."""
    if goal.progress_from_actions and not goal.check_ins:
        actions = [action for action in goal.actions if action.proposal is Proposal.AGREED]
        done = sum(1 for action in actions if action.is_done)
        goal.progress = round(100 * done / len(actions)) if actions else 0


def goal_for_mentor(launch: LaunchContext, goal_id: int) -> Goal:
    """A goal of the launch's course, for one of its mentors; NotFound otherwise."""
    require_mentor(launch)
    goal = db.session.scalar(
        select(Goal).options(selectinload(Goal.actions))
        .where(Goal.id == goal_id, Goal.course_id == course_of(launch),
               learner_reach(launch, Goal.learner_id))
    )
    if goal is None:
        raise NotFound(f"no goal {goal_id} in course {launch.course_id}")
    return goal


def add_check_in(launch: LaunchContext, goal_id: int, draft: CheckInDraft,
                 now: datetime | None = None) -> GoalCheckIn:
    """The learner (their own goal) or a mentor of the course records where a goal stands.

    From then on the goal's progress is its latest check-in's, not the action plan's.
    """
    if launch.is_mentor:
        goal = goal_for_mentor(launch, goal_id)
        by = ActionOwner.MENTOR
    else:
        goal = goal_for_learner(launch, goal_id)
        by = ActionOwner.LEARNER
    if goal.proposal is not Proposal.AGREED:
        raise BadInput(_l("A proposed goal gets check-ins once a mentor agrees to it."))
    check_in = GoalCheckIn(author_id=launch.person_id, by=by, progress=draft.progress,
                           value=draft.value, note=draft.note, created_dt=now or utcnow())
    goal.check_ins.append(check_in)
    goal.progress, goal.progress_from_actions = draft.progress, False
    db.session.flush()
    return check_in


def review_goal(launch: LaunchContext, goal_id: int, attainment: str | None,
                status: str | None, now: datetime | None = None) -> Goal:
    """A mentor rates how far the goal was attained (-2..+2) and sets its status."""
    goal = goal_for_mentor(launch, goal_id)
    try:
        level = int(attainment or "")
    except ValueError:
        level = None
    if level not in ATTAINMENT_LEVELS:
        raise BadInput(_l("Rate the attainment from −2 to +2."))
    try:
        new_status = GoalStatus(status or "")
    except ValueError as exc:
        raise BadInput(_l("Choose active, achieved or dropped.")) from exc
    now = now or utcnow()
    goal.attainment, goal.reviewed_dt = level, now
    _set_status(goal, new_status, now)
    db.session.flush()
    return goal


def goal_for_learner(launch: LaunchContext, goal_id: int) -> Goal:
    """One of the launch's learner's own goals; NotFound for anyone else's."""
    require_learner(launch)
    goal = db.session.scalar(
        select(Goal).where(Goal.id == goal_id, Goal.course_id == course_of(launch),
                           Goal.learner_id == launch.person_id)
    )
    if goal is None:
        raise NotFound(f"no goal {goal_id} of person {launch.person_id}")
    return goal


def learner_goals(course_id: int, learner_id: int) -> list[Goal]:
    """A learner's goals in a course with their action plans and check-ins: active first,
    then by date."""
    goals = db.session.scalars(
        select(Goal).options(selectinload(Goal.actions), selectinload(Goal.check_ins))
        .where(Goal.course_id == course_id, Goal.learner_id == learner_id)
        .order_by(Goal.target_date, Goal.id)
    ).all()
    order = {GoalStatus.ACTIVE: 0, GoalStatus.ACHIEVED: 1, GoalStatus.DROPPED: 2}
    return sorted(goals, key=lambda goal: order[goal.status])


def add_action(launch: LaunchContext, goal_id: int, draft: ActionDraft) -> ActionItem:
    """Add an item to a goal's action plan."""
    goal = goal_for_mentor(launch, goal_id)
    action = ActionItem(title=draft.title, owner=draft.owner, due_date=draft.due_date)
    goal.actions.append(action)
    refresh_progress(goal)
    db.session.flush()
    return action


def remove_action(launch: LaunchContext, action_id: int) -> Goal:
    """Take an item off its goal's action plan."""
    action = action_for_mentor(launch, action_id)
    goal = action.goal
    goal.actions.remove(action)
    refresh_progress(goal)
    db.session.flush()
    return goal


def tick_action(launch: LaunchContext, action_id: int, done: bool, reflection: str | None,
                now: datetime | None = None) -> ActionItem:
    """Tick an item off (or back on) with a short reflection.

    A learner ticks only the items of their own goals that are theirs to do; a mentor any
    item of the course.
    """
    if launch.is_mentor:
        action = action_for_mentor(launch, action_id)
    else:
        action = _action_for_learner(launch, action_id)
        if action.owner is not ActionOwner.LEARNER:
            raise NotAllowed("this action is the mentor's to tick off")
        if action.proposal is not Proposal.AGREED:
            raise NotAllowed("a proposed action is ticked off once a mentor agrees to it")
    reflection = (reflection or "").strip()
    if len(reflection) > MAX_REFLECTION:
        raise BadInput(_l("The reflection is too long (at most %(most)d characters).",
                          most=MAX_REFLECTION))
    if done and action.done_dt is None:
        action.done_dt, action.done_by_id = now or utcnow(), launch.person_id
    elif not done:
        action.done_dt, action.done_by_id = None, None
    action.reflection = reflection
    refresh_progress(action.goal)
    db.session.flush()
    return action


def action_for_mentor(launch: LaunchContext, action_id: int) -> ActionItem:
    """An action item of a goal in the launch's course, for a mentor; NotFound otherwise."""
    require_mentor(launch)
    return _action(launch, action_id, None)


def _action_for_learner(launch: LaunchContext, action_id: int) -> ActionItem:
    return _action(launch, action_id, launch.person_id)


def _action(launch: LaunchContext, action_id: int, learner_id: int | None) -> ActionItem:
    query = (
        select(ActionItem).join(ActionItem.goal)
        .options(selectinload(ActionItem.goal).selectinload(Goal.actions))
        .where(ActionItem.id == action_id, Goal.course_id == course_of(launch))
    )
    if learner_id is not None:
        query = query.where(Goal.learner_id == learner_id)
    else:
        query = query.where(learner_reach(launch, Goal.learner_id))
    action = db.session.scalar(query)
    if action is None:
        raise NotFound(f"no action {action_id} reachable by person {launch.person_id}")
    return action
