"""The mentor's pages around one session: the preparation view (printable), and the forms of
the session guide (agenda, goals set in the session, the summary).

The guide itself is the session page (sessions_views.detail). Every route finds the session
through the launch's course, so another course's session answers 404 and a learner 403.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, request
from werkzeug.datastructures import MultiDict

from lti_tool.extensions import db
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring import booking, goals, guide, summary
from lti_tool.mentoring.booking import BookingRefused
from lti_tool.mentoring.goals import GoalDraft
from lti_tool.mentoring.goals_views import DEFAULT_GOAL_WEEKS
from lti_tool.mentoring.models import GoalStatus, ReflectionKind
from lti_tool.mentoring.notes import learner_notes, mentor_only_notes
from lti_tool.mentoring.plan import SessionEntry
from lti_tool.mentoring.scope import BadInput
from lti_tool.mentoring.viewer import answer_errors, page, viewer_clock

bp = Blueprint("guide", __name__)
answer_errors(bp)


@bp.get("/mentor/sessions/<int:session_id>/prepare")
@role_required(Role.MENTOR)
def prepare(session_id: int):
    """Everything to read before the session, on one or two printed A4 pages."""
    clock = viewer_clock()
    session = booking.session_for_mentor(g.launch, session_id)
    before = guide.reflection(session.id, ReflectionKind.BEFORE)
    profile = guide.learner_profile(session.course_id, session.learner_id, g.launch.locale,
                                    session.learner.display_name,
                                    before.ratings if before is not None else None)
    all_goals = goals.learner_goals(session.course_id, session.learner_id)
    open_goals = [goal for goal in all_goals if goal.status is GoalStatus.ACTIVE]
    previous = guide.previous_session(session)
    previous_entry = None
    if previous is not None:
        previous_entry = SessionEntry(
            previous, tuple(learner_notes([previous.id])[previous.id]),
            tuple(mentor_only_notes(g.launch, [previous.id])[previous.id]))
    today = clock.today(utcnow())
    return page(
        "mentoring/prepare.html", clock=clock, session=session, profile=profile,
        before=before, open_goals=open_goals, overdue=guide.overdue(open_goals, today),
        previous=previous_entry,
        previous_after=(guide.reflection(previous.id, ReflectionKind.AFTER)
                        if previous is not None else None),
        previous_goals=summary.agreed_goals(previous) if previous is not None else (),
        today=today,
    )


@bp.post("/mentor/sessions/<int:session_id>/agenda")
@role_required(Role.MENTOR)
def save_agenda(session_id: int):
    """Change the session's agenda parts; optionally keep them as the mentor's template."""
    return _change(session_id, "agenda", "agenda", lambda: guide.save_agenda(
        g.launch, session_id, guide.parts_from_form(request.form),
        as_template=request.form.get("as_template") == "1"))


@bp.post("/mentor/sessions/<int:session_id>/goals")
@role_required(Role.MENTOR)
def add_goal(session_id: int):
    """Set a goal in the session, linked to it and to the dimension it develops."""
    session = booking.session_for_mentor(g.launch, session_id)
    form = MultiDict(request.form)
    if not form.get("target_date"):
        # Some weeks after the session (booked ahead, it may be weeks away itself).
        start = max(viewer_clock().today(utcnow()), session.start_dt.date())
        form["target_date"] = (start + timedelta(weeks=DEFAULT_GOAL_WEEKS)).isoformat()
    form.setdefault("status", GoalStatus.ACTIVE.value)
    return _change(session_id, "goal", "part-goals", lambda: goals.create_goal(
        g.launch, session.learner_id, GoalDraft.from_form(form), session_id=session.id))


@bp.post("/mentor/sessions/<int:session_id>/summary")
@role_required(Role.MENTOR)
def save_summary(session_id: int):
    """Save the summary as a draft, or publish it to the learner."""
    publish = request.form.get("publish") == "1"
    return _change(session_id, "summary_published" if publish else "summary_saved",
                   "summary", lambda: summary.save_summary(
                       g.launch, session_id, request.form.get("discussed"),
                       request.form.get("next"), publish=publish))


def _change(session_id: int, done: str, anchor: str, change):
    # The session page (sessions_views) shows the error with the guide around it.
    from lti_tool.mentoring.sessions_views import _detail

    clock = viewer_clock()
    try:
        change()
    except (BadInput, BookingRefused) as exc:
        db.session.rollback()
        return _detail(clock, session_id, str(exc), 400)
    db.session.commit()
    url = launch_url_for("sessions.detail", session_id=session_id, done=done)
    return redirect(f"{url}#{anchor}", code=303)
