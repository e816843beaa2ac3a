"""The mentor's pages for one learner's development plan: goals (SMART, against the learner's
dimensions, started from a dimension's suggestions), action plans, and the learner's sessions.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring import goals
from lti_tool.mentoring.areas import DimensionChoice, dimension_choices
from lti_tool.mentoring.goals import SMART_FIELDS, ActionDraft, GoalDraft
from lti_tool.mentoring.models import ActionOwner, Goal, GoalStatus
from lti_tool.mentoring.plan import mentor_plan
from lti_tool.mentoring.scope import BadInput, learner_in_course
from lti_tool.mentoring.timezones import Clock
from lti_tool.mentoring.viewer import answer_errors, page, viewer_clock

bp = Blueprint("goals", __name__)
answer_errors(bp)
#: A goal started from a suggestion aims this far ahead.
DEFAULT_GOAL_WEEKS = 6
DONE = {
    "goal": _l("The goal is saved."),
    "action": _l("The action plan is updated."),
}


@bp.get("/mentor/learners/<int:person_id>/plan")
@role_required(Role.MENTOR)
def learner_plan(person_id: int):
    """One learner's goals, action plans and sessions, with what the mentor can change."""
    clock = viewer_clock()
    return _plan_page(clock, person_id)


def _plan_page(clock: Clock, person_id: int, *, error: str | None = None,
               error_goal: int | None = None, status: int = 200):
    now = utcnow()
    return page(
        "mentoring/learner_plan.html", status, clock=clock,
        plan=mentor_plan(g.launch, person_id, now), today=clock.today(now), owners=ActionOwner,
        done=DONE.get(request.args.get("done", "")), error=error, error_goal=error_goal,
    )


@bp.get("/mentor/learners/<int:person_id>/goals/new")
@role_required(Role.MENTOR)
def new(person_id: int):
    """The goal form; a suggestion picked from a dimension pre-fills it."""
    clock = viewer_clock()
    learner = learner_in_course(g.launch, person_id)
    choices = dimension_choices(g.launch.course_id, learner.id, g.launch.locale)
    form = MultiDict({"status": GoalStatus.ACTIVE.value, "progress_from_actions": "1"})
    picked = _picked(choices, request.args.get("dimension"), request.args.get("suggestion"))
    if picked is not None:
        form = starting_point(*picked, today=clock.today(utcnow()))
    return _goal_form(clock, learner, choices, form)


def starting_point(choice: DimensionChoice, suggestion: str, today) -> MultiDict:
    """The goal form filled from one of a dimension's development suggestions."""
    title = suggestion if len(suggestion) <= goals.MAX_TITLE else (
        suggestion[: goals.MAX_TITLE - 1].rsplit(" ", 1)[0] + "…")
    relevant = (_("%(name)s is one of the learner's areas to develop.", name=choice.name)
                if choice.to_develop else _("It develops %(name)s.", name=choice.name))
    return MultiDict([
        ("title", title), ("dimension_ids", choice.id), ("specific", suggestion),
        ("relevant", relevant), ("status", GoalStatus.ACTIVE.value),
        ("target_date", (today + timedelta(weeks=DEFAULT_GOAL_WEEKS)).isoformat()),
        ("progress_from_actions", "1"),
    ])


def _picked(choices: list[DimensionChoice], dimension_id: str | None,
            index: str | None) -> tuple[DimensionChoice, str] | None:
    choice = next((c for c in choices if c.id == dimension_id), None)
    if choice is None or not (index or "").isdigit() or int(index) >= len(choice.suggestions):
        return None
    return choice, choice.suggestions[int(index)]


def _goal_form(clock: Clock, learner, choices, form, *, goal: Goal | None = None,
               error: str | None = None, status: int = 200):
    return page(
        "mentoring/goal_form.html", status, clock=clock, learner=learner, choices=choices,
        form=form, goal=goal, error=error, smart_fields=SMART_FIELDS, statuses=list(GoalStatus),
        today=clock.today(utcnow()), starting_point=starting_point,
    )


@bp.post("/mentor/learners/<int:person_id>/goals")
@role_required(Role.MENTOR)
def create(person_id: int):
    """Set the goal, or show the form again saying what is missing."""
    clock = viewer_clock()
    try:
        goal = goals.create_goal(g.launch, person_id, GoalDraft.from_form(request.form))
    except BadInput as exc:
        db.session.rollback()
        learner = learner_in_course(g.launch, person_id)
        choices = dimension_choices(g.launch.course_id, learner.id, g.launch.locale)
        return _goal_form(clock, learner, choices, request.form, error=str(exc), status=400)
    db.session.commit()
    return _to_plan(goal, "goal")


@bp.get("/mentor/goals/<int:goal_id>/edit")
@role_required(Role.MENTOR)
def edit(goal_id: int):
    """The goal form for an existing goal: SMART fields, status and progress."""
    clock = viewer_clock()
    goal = goals.goal_for_mentor(g.launch, goal_id)
    form = MultiDict([
        ("title", goal.title), *(("dimension_ids", d) for d in goal.dimension_ids),
        *((name, getattr(goal, name)) for name, _, _ in SMART_FIELDS),
        ("target_date", goal.target_date.isoformat()), ("status", goal.status.value),
        ("progress", str(goal.progress)),
        *([("progress_from_actions", "1")] if goal.progress_from_actions else []),
    ])
    choices = dimension_choices(g.launch.course_id, goal.learner_id, g.launch.locale)
    return _goal_form(clock, goal.learner, choices, form, goal=goal)


@bp.post("/mentor/goals/<int:goal_id>")
@role_required(Role.MENTOR)
def update(goal_id: int):
    """Save the goal's changes."""
    clock = viewer_clock()
    try:
        goal = goals.update_goal(g.launch, goal_id, GoalDraft.from_form(request.form))
    except BadInput as exc:
        db.session.rollback()
        goal = goals.goal_for_mentor(g.launch, goal_id)
        choices = dimension_choices(g.launch.course_id, goal.learner_id, g.launch.locale)
        return _goal_form(clock, goal.learner, choices, request.form, goal=goal,
                          error=str(exc), status=400)
    db.session.commit()
    return _to_plan(goal, "goal")


@bp.post("/mentor/goals/<int:goal_id>/actions")
@role_required(Role.MENTOR)
def add_action(goal_id: int):
    """Add an item to the goal's action plan."""
    clock = viewer_clock()
    try:
        action = goals.add_action(g.launch, goal_id, ActionDraft.from_form(request.form))
    except BadInput as exc:
        db.session.rollback()
        goal = goals.goal_for_mentor(g.launch, goal_id)
        return _plan_page(clock, goal.learner_id, error=str(exc), error_goal=goal.id,
                          status=400)
    db.session.commit()
    return _to_plan(action.goal, "action")


@bp.post("/mentor/actions/<int:action_id>/done")
@role_required(Role.MENTOR)
def tick_action(action_id: int):
    """Tick an action item off, or back on."""
    clock = viewer_clock()
    try:
        action = goals.tick_action(g.launch, action_id, request.form.get("done") == "1",
                                   request.form.get("reflection"))
    except BadInput as exc:
        db.session.rollback()
        return _plan_page(clock, _learner_of_action(action_id), error=str(exc), status=400)
    db.session.commit()
    return _to_plan(action.goal, "action")


@bp.post("/mentor/actions/<int:action_id>/delete")
@role_required(Role.MENTOR)
def delete_action(action_id: int):
    """Take an item off the action plan."""
    goal = goals.remove_action(g.launch, action_id)
    db.session.commit()
    return _to_plan(goal, "action")


def _learner_of_action(action_id: int) -> int:
    return goals.action_for_mentor(g.launch, action_id).goal.learner_id


def _to_plan(goal: Goal, done: str):
    url = launch_url_for("goals.learner_plan", person_id=goal.learner_id, done=done)
    return redirect(f"{url}#goal-{goal.id}", code=303)
