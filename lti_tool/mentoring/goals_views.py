"""The mentor's pages for one learner's development plan: goals (SMART, against the learner's
dimensions, started from a dimension's suggestions), action plans, and the learner's sessions.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from lti_tool.extensions import db
from lti_tool.figures import display, page_score
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring import goals, proposals
from lti_tool.mentoring.areas import DimensionChoice, dimension_choices
from lti_tool.mentoring.goals import SMART_FIELDS, ActionDraft, CheckInDraft, GoalDraft
from lti_tool.mentoring.models import (
    ATTAINMENT_LEVELS,
    ActionOwner,
    Goal,
    GoalStatus,
    attainment_label,
)
from lti_tool.mentoring.plan import mentor_plan
from lti_tool.mentoring.scope import BadInput, learner_in_course
from lti_tool.mentoring.timezones import Clock
from lti_tool.mentoring.viewer import answer_errors, page, viewer_clock

bp = Blueprint("goals", __name__)
answer_errors(bp)


@bp.app_template_filter("measure")
def measure_text(value: float | None) -> str:
    """A goal's measure as people write it: a count without decimals ("3"), a score with one
    ("4.5", "4,5" in Polish); "—" for none."""
    if value is None:
        return "—"
    shown = page_score(value)
    return shown[:-2] if float(value).is_integer() else shown
#: A goal started from a suggestion aims this far ahead.
DEFAULT_GOAL_WEEKS = 6
#: ...and this much higher on the dimension's 1..10 score (about one SEM).
TARGET_STEP = 1.0
DONE = {
    "goal": _l("The goal is saved. Now plan its first actions below."),
    "action": _l("The action plan is updated."),
    "check_in": _l("The check-in is saved."),
    "review": _l("The goal is reviewed."),
    "decided": _l("Your decision is saved; the learner sees it on their plan."),
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
        opened_goal=request.args.get("goal", type=int), statuses=list(GoalStatus),
        attainment_levels=[(level, attainment_label(level)) for level in ATTAINMENT_LEVELS],
    )


@bp.get("/mentor/learners/<int:person_id>/goals/new")
@role_required(Role.MENTOR)
def new(person_id: int):
    """The goal form; a suggestion picked from a dimension pre-fills it."""
    clock = viewer_clock()
    learner = learner_in_course(g.launch, person_id)
    choices = dimension_choices(g.launch.course_id, learner.id, g.launch.locale)
    form = MultiDict({"status": GoalStatus.ACTIVE.value})
    picked = _picked(choices, request.args.get("dimension"), request.args.get("suggestion"))
    if picked is not None:
        form = starting_point(*picked, today=clock.today(utcnow()))
    return _goal_form(clock, learner, choices, form)


def starting_point(choice: DimensionChoice, suggestion: str, today) -> MultiDict:
    """The goal form filled from one of a dimension's development suggestions.

    The suggestion is the description (in full); the title is a few words to adapt. With a
    result, the measure is the dimension's score: the baseline is today's score and the
    target one point higher at the next retake.
    """
    relevant = (_("%(name)s is one of the learner's areas to develop.", name=choice.name)
                if choice.to_develop else _("It develops %(name)s.", name=choice.name))
    fields = [
        ("title", _("Develop %(name)s", name=choice.name)), ("dimension_ids", choice.id),
        ("description", suggestion), ("relevant", relevant),
        ("achievable", _("One small step a week from the action plan, talked over at the next "
                         "session.")),
        ("status", GoalStatus.ACTIVE.value),
        ("target_date", (today + timedelta(weeks=DEFAULT_GOAL_WEEKS)).isoformat()),
    ]
    if choice.score is not None:
        # The score as every page writes it (figures.display: 6.25 is 6.3, never 6.2).
        baseline = float(display(choice.score))
        target = min(10.0, float(display(baseline + TARGET_STEP)))
        locale = g.launch.locale
        fields += [
            ("measure", _("%(name)s score at the next retake", name=choice.name)),
            ("baseline", display(baseline)), ("target_value", display(target)),
            ("measurable", _("The %(name)s score rises from %(baseline)s to %(target)s at the "
                             "next retake, and the learner can name one situation where they "
                             "acted differently.", name=choice.name,
                             baseline=display(baseline, locale), target=display(target, locale))),
        ]
    return MultiDict(fields)


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
        max_title=goals.MAX_TITLE,
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
    form = goal_form_values(goal)
    choices = dimension_choices(g.launch.course_id, goal.learner_id, g.launch.locale)
    return _goal_form(clock, goal.learner, choices, form, goal=goal)


def goal_form_values(goal: Goal) -> MultiDict:
    """An existing goal as its form shows it."""
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return MultiDict([
        ("title", goal.title), ("description", goal.description),
        *(("dimension_ids", d) for d in goal.dimension_ids),
        *((name, getattr(goal, name)) for name, _, _ in SMART_FIELDS),
        ("measure", goal.measure), ("baseline", number(goal.baseline)),
        ("target_value", number(goal.target_value)),
        ("target_date", goal.target_date.isoformat()), ("status", goal.status.value),
    ])


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
    return _back_to_session(action.goal, "action") or _to_plan(action.goal, "action")


@bp.post("/mentor/goals/<int:goal_id>/check-ins")
@role_required(Role.MENTOR)
def check_in(goal_id: int):
    """Record where the goal stands: progress, the measure's value, a note."""
    clock = viewer_clock()
    try:
        entry = goals.add_check_in(g.launch, goal_id, CheckInDraft.from_form(request.form))
    except BadInput as exc:
        db.session.rollback()
        goal = goals.goal_for_mentor(g.launch, goal_id)
        return _plan_page(clock, goal.learner_id, error=str(exc), error_goal=goal.id,
                          status=400)
    db.session.commit()
    return _to_plan(entry.goal, "check_in")


@bp.post("/mentor/goals/<int:goal_id>/review")
@role_required(Role.MENTOR)
def review(goal_id: int):
    """Rate the goal's attainment (-2..+2) and set its status."""
    clock = viewer_clock()
    try:
        goal = goals.review_goal(g.launch, goal_id, request.form.get("attainment"),
                                 request.form.get("status"))
    except BadInput as exc:
        db.session.rollback()
        goal = goals.goal_for_mentor(g.launch, goal_id)
        return _plan_page(clock, goal.learner_id, error=str(exc), error_goal=goal.id,
                          status=400)
    db.session.commit()
    return _back_to_session(goal, "review") or _to_plan(goal, "review")


@bp.post("/mentor/goals/<int:goal_id>/decision")
@role_required(Role.MENTOR)
def decide_goal(goal_id: int):
    """Accept a learner's proposed goal, or decline it with a reply."""
    clock = viewer_clock()
    try:
        goal = proposals.decide_goal(g.launch, goal_id, request.form.get("accept") == "1",
                                     request.form.get("reply"))
    except BadInput as exc:
        db.session.rollback()
        goal = goals.goal_for_mentor(g.launch, goal_id)
        return _plan_page(clock, goal.learner_id, error=str(exc), error_goal=goal.id,
                          status=400)
    db.session.commit()
    return _to_plan(goal, "decided")


@bp.post("/mentor/actions/<int:action_id>/decision")
@role_required(Role.MENTOR)
def decide_action(action_id: int):
    """Accept a learner's proposed action, or decline it."""
    clock = viewer_clock()
    try:
        action = proposals.decide_action(g.launch, action_id,
                                         request.form.get("accept") == "1")
    except BadInput as exc:
        db.session.rollback()
        return _plan_page(clock, _learner_of_action(action_id), error=str(exc), status=400)
    db.session.commit()
    return _to_plan(action.goal, "decided")


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


def _back_to_session(goal: Goal, done: str):
    """Back to the session guide the form was sent from, if it was (the session page checks
    the course); None otherwise."""
    session_id = request.form.get("session_id", type=int)
    if session_id is None:
        return None
    url = launch_url_for("sessions.detail", session_id=session_id, done=done)
    return redirect(f"{url}#goal-{goal.id}", code=303)


def _to_plan(goal: Goal, done: str):
    url = launch_url_for("goals.learner_plan", person_id=goal.learner_id, done=done,
                         goal=goal.id)
    return redirect(f"{url}#goal-{goal.id}", code=303)
