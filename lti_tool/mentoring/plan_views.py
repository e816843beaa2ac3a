"""The learner's "My development plan": results in brief, goals and action items to tick off,
sessions (upcoming and past, .ics, questions for the mentor), slots to book, a JSON export.

Only the launch's learner's own things are reachable: another learner's session, action or
slot of another course answers 404. Notes come only from notes.learner_notes.
"""

from __future__ import annotations

import json

from flask import Blueprint, g, redirect, request
from flask_babel import gettext as _

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring import booking, calendar, goals, proposals, reflections, slots, summary
from lti_tool.mentoring.booking import BookingConflict, BookingRefused
from lti_tool.mentoring.models import ReflectionKind
from lti_tool.mentoring.notes import learner_notes
from lti_tool.mentoring.plan import learner_plan, plan_export
from lti_tool.mentoring.scope import BadInput
from lti_tool.mentoring.timezones import Clock
from lti_tool.mentoring.viewer import answer_errors, attachment, page, viewer_clock

bp = Blueprint("plan", __name__, url_prefix="/plan")
answer_errors(bp)
DONE = {
    "ticked": _l("Well done: the action is ticked off."),
    "reopened": _l("The action is open again."),
    "questions": _l("Your questions are saved; your mentor will see them before the session."),
    "cancelled": _l("The session is cancelled. Your mentor will see your reason."),
    "booked": _l("The session is booked. Download it for your calendar below."),
    "check_in": _l("Your check-in is saved; your mentor will see it."),
    "prepared": _l("Your preparation is saved; your mentor will read it before the session."),
    "reflected": _l("Your reflection is saved; your mentor will see it."),
    "acknowledged": _l("Thank you: your mentor sees that you have read the summary."),
    "proposed_goal": _l("Your goal is proposed; your mentor will accept it or reply."),
    "proposed_action": _l("Your action is proposed; your mentor will accept it or reply."),
}


@bp.get("/")
@role_required(Role.LEARNER)
def index():
    """The learner's development plan."""
    return _index(viewer_clock())


def _index(clock: Clock, error: str | None = None, status: int = 200):
    now = utcnow()
    plan = learner_plan(g.launch, now)
    sessions = [entry.session for entry in (*plan.upcoming, *plan.past)]
    own = reflections.own_reflections([session.id for session in sessions])
    to_rate = {
        entry.session.id: reflections.dimensions_to_rate(
            g.launch.course_id, g.launch.person_id, g.launch.locale,
            getattr(own.get((entry.session.id, ReflectionKind.BEFORE)), "ratings", None))
        for entry in plan.upcoming
    }
    return page(
        "plan/index.html", status, clock=clock, plan=plan, now=now,
        today=clock.today(now), guard=booking.BookingRules.from_config().guard,
        done=DONE.get(request.args.get("done", "")), error=error, reflections=own,
        to_rate=to_rate, kinds=ReflectionKind, rating_range=reflections.RATING_RANGE,
        dimensions=[(d.id, d.name.get(g.launch.locale)) for d in plan.instrument.dimensions],
    )


@bp.post("/actions/<int:action_id>")
@role_required(Role.LEARNER)
def tick_action(action_id: int):
    """Tick one of the learner's action items off (or back on), with a short reflection."""
    clock = viewer_clock()
    done = request.form.get("done") == "1"
    try:
        goals.tick_action(g.launch, action_id, done, request.form.get("reflection"))
    except BadInput as exc:
        db.session.rollback()
        return _index(clock, str(exc), 400)
    db.session.commit()
    return _back("ticked" if done else "reopened", f"action-{action_id}")


@bp.post("/goals/<int:goal_id>/check-ins")
@role_required(Role.LEARNER)
def check_in(goal_id: int):
    """Record where one of the learner's goals stands: progress, the measure, a note."""
    return _change(lambda: goals.add_check_in(g.launch, goal_id,
                                              goals.CheckInDraft.from_form(request.form)),
                   "check_in", f"goal-{goal_id}")


@bp.post("/goals")
@role_required(Role.LEARNER)
def propose_goal():
    """Propose a goal of one's own; a mentor accepts or declines it."""
    today = viewer_clock().today(utcnow())
    return _change(lambda: proposals.propose_goal(g.launch, request.form, today),
                   "proposed_goal", "goals-heading")


@bp.post("/goals/<int:goal_id>/actions")
@role_required(Role.LEARNER)
def propose_action(goal_id: int):
    """Propose an action of one's own for an agreed goal."""
    return _change(lambda: proposals.propose_action(g.launch, goal_id, request.form),
                   "proposed_action", f"goal-{goal_id}")


@bp.post("/sessions/<int:session_id>/preparation")
@role_required(Role.LEARNER)
def prepare(session_id: int):
    """Before a session: self-ratings of strengths and areas, and what one wants from it."""
    return _change(lambda: reflections.save_before(g.launch, session_id, request.form),
                   "prepared", f"session-{session_id}")


@bp.post("/sessions/<int:session_id>/reflection")
@role_required(Role.LEARNER)
def reflect(session_id: int):
    """After a session: what one takes away from it."""
    return _change(lambda: reflections.save_after(g.launch, session_id,
                                                  request.form.get("text")),
                   "reflected", f"session-{session_id}")


@bp.get("/sessions/<int:session_id>/summary")
@role_required(Role.LEARNER)
def summary_page(session_id: int):
    """The summary the mentor published: what was discussed, what was agreed, what is next."""
    clock = viewer_clock()
    published = summary.published_summary(g.launch, session_id)
    after = reflections.own_reflections([session_id]).get((session_id, ReflectionKind.AFTER))
    plan = learner_plan(g.launch)
    return page("plan/summary.html", clock=clock, summary=published, after=after, plan=plan,
                notes=learner_notes([session_id])[session_id], today=clock.today(utcnow()),
                done=DONE.get(request.args.get("done", "")))


@bp.post("/sessions/<int:session_id>/summary/acknowledge")
@role_required(Role.LEARNER)
def acknowledge(session_id: int):
    """Confirm one has read the session's summary."""
    clock = viewer_clock()
    try:
        summary.acknowledge(g.launch, session_id)
    except BookingRefused as exc:
        db.session.rollback()
        return _index(clock, str(exc), 400)
    db.session.commit()
    url = launch_url_for("plan.summary_page", session_id=session_id, done="acknowledged")
    return redirect(url, code=303)


@bp.post("/sessions/<int:session_id>/questions")
@role_required(Role.LEARNER)
def save_questions(session_id: int):
    """Leave questions for the mentor before a session."""
    return _change(lambda: booking.save_questions(g.launch, session_id,
                                                  request.form.get("questions")),
                   "questions", f"session-{session_id}")


@bp.post("/sessions/<int:session_id>/cancel")
@role_required(Role.LEARNER)
def cancel_session(session_id: int):
    """Cancel one of the learner's sessions (not within the guard time), with a reason."""
    return _change(lambda: booking.cancel_session(g.launch, session_id,
                                                  request.form.get("reason")),
                   "cancelled", f"session-{session_id}")


def _change(change, done: str, anchor: str):
    clock = viewer_clock()
    try:
        change()
    except (BadInput, BookingRefused) as exc:
        db.session.rollback()
        return _index(clock, str(exc), 400)
    db.session.commit()
    if request.form.get("back") == "summary" and anchor.startswith("session-"):
        # Written on the summary page: back to it.
        session_id = int(anchor.removeprefix("session-"))
        return redirect(launch_url_for("plan.summary_page", session_id=session_id, done=done),
                        code=303)
    return _back(done, anchor)


@bp.get("/sessions/<int:session_id>/session.ics")
@role_required(Role.LEARNER)
def session_ics(session_id: int):
    """One of the learner's sessions for their calendar, in their time zone."""
    session = booking.session_for_learner(g.launch, session_id)
    body = calendar.session_ics(session, viewer_clock().zone, for_learner=True)
    db.session.commit()
    return attachment(body, "text/calendar", f"mentoring-session-{session.id}.ics")


@bp.get("/plan.ics")
@role_required(Role.LEARNER)
def plan_ics():
    """The learner's sessions and open actions' due dates for their calendar."""
    plan = learner_plan(g.launch)
    sessions = [entry.session for entry in plan.upcoming + plan.past
                if not entry.session.is_cancelled]
    actions = [action for goal in plan.goals for action in goal.actions
               if action.due_date is not None and not action.is_done]
    body = calendar.plan_ics(sessions, actions, viewer_clock().zone, _("My development plan"))
    db.session.commit()
    return attachment(body, "text/calendar", "my-development-plan.ics")


@bp.get("/slots")
@role_required(Role.LEARNER)
def slots_page():
    """The mentors' free slots the learner may book."""
    return _slots(viewer_clock())


def _slots(clock: Clock, error: str | None = None, status: int = 200):
    now = utcnow()
    rules = booking.BookingRules.from_config()
    return page(
        "plan/slots.html", status, clock=clock, slots=slots.open_slots(g.launch, now, rules),
        booked=booking.upcoming_count(g.launch.course_id, g.launch.person_id, now),
        rules=rules, error=error,
    )


@bp.post("/slots/<int:slot_id>/book")
@role_required(Role.LEARNER)
def book_slot(slot_id: int):
    """Book a slot for oneself."""
    clock = viewer_clock()
    try:
        session = slots.book_slot(g.launch, slot_id)
    except BookingConflict as exc:
        db.session.rollback()
        return _slots(clock, exc.describe(clock), 409)
    except BookingRefused as exc:
        db.session.rollback()
        return _slots(clock, str(exc), 409)
    db.session.commit()
    return _back("booked", f"session-{session.id}")


@bp.get("/export.json")
@role_required(Role.LEARNER)
def export_json():
    """The learner's own plan as JSON (times in UTC)."""
    body = json.dumps(plan_export(g.launch), ensure_ascii=False, indent=2).encode()
    return attachment(body, "application/json", "my-development-plan.json")


def _back(done: str, anchor: str):
    return redirect(f"{launch_url_for('plan.index', done=done)}#{anchor}", code=303)

