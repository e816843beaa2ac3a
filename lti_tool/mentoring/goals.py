"""Goals against a learner's dimensions (SMART, with a target date) and their action plans.

A mentor writes goals and action items; a learner ticks off their own items with a short
reflection. A goal's progress follows its action plan (done items of all items) until the
mentor sets it by hand.
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
from lti_tool.mentoring.models import ActionItem, ActionOwner, Goal, GoalStatus
from lti_tool.mentoring.scope import (
    BadInput,
    NotAllowed,
    NotFound,
    course_of,
    learner_in_course,
    learner_reach,
    require_mentor,
)
from lti_tool.mentoring.timezones import BadTime, parse_day

MAX_TITLE = 200
MAX_SMART = 2000
MAX_ACTION = 300
MAX_REFLECTION = 1000
#: The SMART fields besides the target date, in the order forms show them.
SMART_FIELDS = (
    ("specific", _l("Specific"), _l("What exactly will change?")),
    ("measurable", _l("Measurable"), _l("How will you both know it happened?")),
    ("achievable", _l("Achievable"), _l("Why is it within reach, and what does it need?")),
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
    #: None: follow the action plan.
    progress: int | None

    @classmethod
    def from_form(cls, form: Any) -> GoalDraft:
        """Read the goal form (a werkzeug MultiDict); BadInput naming the problem."""
        title = (form.get("title") or "").strip()
        if not title:
            raise BadInput(_l("Give the goal a title."))
        if len(title) > MAX_TITLE:
            raise BadInput(_l("The title is too long (at most %(most)d characters).",
                              most=MAX_TITLE))
        # Which ids exist depends on the learner's instrument version: checked when saved.
        dimension_ids = tuple(dict.fromkeys(form.getlist("dimension_ids")))
        if not dimension_ids:
            raise BadInput(_l("Link the goal to at least one dimension."))
        texts = {}
        for name, label, _ in SMART_FIELDS:
            texts[name] = (form.get(name) or "").strip()
            if len(texts[name]) > MAX_SMART:
                raise BadInput(_l("“%(field)s” is too long (at most %(most)d characters).",
                                  field=label, most=MAX_SMART))
        try:
            target = parse_day(form.get("target_date"), _l("the target date"))
        except BadTime as exc:
            raise BadInput(str(exc)) from exc
        try:
            status = GoalStatus(form.get("status") or GoalStatus.ACTIVE)
        except ValueError as exc:
            raise BadInput(_l("Choose active, achieved or dropped.")) from exc
        progress = None
        if form.get("progress_from_actions") != "1":
            try:
                progress = int(form.get("progress") or 0)
            except ValueError as exc:
                raise BadInput(
                    _l("Give the progress as a whole number from 0 to 100.")) from exc
            if not 0 <= progress <= 100:
                raise BadInput(_l("Give the progress as a whole number from 0 to 100."))
        return cls(title, dimension_ids, status=status, target_date=target, progress=progress,
                   **texts)


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
                now: datetime | None = None) -> Goal:
    """The launch's mentor sets a goal for a learner of the course."""
    require_mentor(launch)
    learner = learner_in_course(launch, learner_id)
    _check_dimensions(course_of(launch), learner.id, draft)
    goal = Goal(course_id=course_of(launch), learner_id=learner.id,
                created_by_id=launch.person_id, progress=0)
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
    goal.title = draft.title
    goal.dimension_ids = list(draft.dimension_ids)
    goal.specific, goal.measurable = draft.specific, draft.measurable
    goal.achievable, goal.relevant = draft.achievable, draft.relevant
    goal.target_date = draft.target_date
    if draft.status is not goal.status:
        goal.closed_dt = None if draft.status is GoalStatus.ACTIVE else now
    goal.status = draft.status
    goal.progress_from_actions = draft.progress is None
    if draft.progress is not None:
        goal.progress = draft.progress
    refresh_progress(goal)


def refresh_progress(goal: Goal) -> None:
    """Progress from the action plan (done of all items), while the goal follows it."""
    if goal.progress_from_actions:
        actions = goal.actions
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


def learner_goals(course_id: int, learner_id: int) -> list[Goal]:
    """A learner's goals in a course with their action plans: active first, then by date."""
    goals = db.session.scalars(
        select(Goal).options(selectinload(Goal.actions))
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
