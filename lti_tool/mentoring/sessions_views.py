"""The mentor's session pages: book, reschedule, cancel, attended or no-show, notes, slots,
the .ics of a session and the private calendar feed (which alone works without a launch).

Every page is scoped by the launch's course; forms carry the launch token (`lt`) and the
browser's time zone (`tz`, filled by timezone.js). After a change the browser is sent on
with `done=<what>` so the next page can say what happened without a cookie.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, redirect, request

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring import booking, calendar, guide, notes, slots, summary
from lti_tool.mentoring.areas import default_agenda, dimension_names
from lti_tool.mentoring.booking import BookingConflict, BookingRefused
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.goals_views import DEFAULT_GOAL_WEEKS
from lti_tool.mentoring.models import (
    ATTAINMENT_LEVELS,
    AgendaKind,
    GoalStatus,
    MeetingMode,
    MentoringSession,
    SessionStatus,
    attainment_label,
)
from lti_tool.mentoring.scope import (
    BadInput,
    NotFound,
    course_of,
    learner_in_course,
    learner_reach,
    mentor_learners,
)
from lti_tool.mentoring.slots import SlotSeries
from lti_tool.mentoring.timezones import Clock
from lti_tool.mentoring.viewer import answer_errors, attachment, page, viewer_clock

log = logging.getLogger(__name__)
bp = Blueprint("sessions", __name__)
answer_errors(bp)
#: What the page after a change says happened.
DONE = {
    "booked": _l("The session is booked."),
    "rescheduled": _l("The session is changed; calendars that imported it update with the new "
                      ".ics."),
    "cancelled": _l("The session is cancelled."),
    "outcome": _l("The session is marked."),
    "note": _l("The note is saved."),
    "note_deleted": _l("The note is deleted."),
    "withdrawn": _l("The slot is withdrawn."),
    "revoked": _l("The calendar feed URL is revoked; calendars subscribed to it stop updating."),
    "agenda": _l("The agenda is saved."),
    "action": _l("The action plan is updated."),
    "review": _l("The goal is reviewed."),
    "goal": _l("The goal is set in this session. Plan its first actions below."),
    "summary_saved": _l("The summary is saved as a draft; the learner does not see it yet."),
    "summary_published": _l("The summary is published; the learner sees it on their plan."),
}


@bp.get("/mentor/sessions/")
@role_required(Role.MENTOR)
def index():
    """The mentor's sessions in the course, their slots and their calendar feed."""
    return _index(viewer_clock())


def _index(clock: Clock, status: int = 200, **extra):
    now = utcnow()
    upcoming, past = booking.split_upcoming(
        booking.course_sessions(course_of(g.launch), mentor_id=g.launch.person_id,
                                reach=learner_reach(g.launch, MentoringSession.learner_id)),
        now)
    defaults = {"first_day": clock.today(now).isoformat(), "days": "5", "times": "09:00, 11:00",
                "minutes": str(current_app.config["MENTORING_SESSION_MINUTES"]),
                "weekdays_only": "1", "mode": MeetingMode.IN_PERSON.value}
    return page(
        "mentoring/sessions.html", status, clock=clock, upcoming=upcoming, past=past,
        slots=slots.mentor_slots(g.launch, now), feed=calendar.active_feed(g.launch),
        done=DONE.get(request.args.get("done", "")), modes=list(MeetingMode),
        slot_form=extra.pop("slot_form", None) or defaults, **extra,
    )


@bp.route("/mentor/sessions/new", methods=["GET", "POST"])
@role_required(Role.MENTOR)
def new():
    """The booking form; the agenda starts from the learner's areas to develop. Its "fill it
    in" button posts the chosen learner back here (a POST, so that the page token in the
    form stays out of the address)."""
    clock = viewer_clock()
    learner_id = request.values.get("learner_id", type=int)
    form = {"minutes": str(current_app.config["MENTORING_SESSION_MINUTES"]),
            "mode": MeetingMode.IN_PERSON.value, "learner_id": learner_id or ""}
    if learner_id is not None:
        # Another course's learner looks like nobody.
        learner_in_course(g.launch, learner_id)
        form["agenda"] = default_agenda(g.launch.course_id, learner_id, g.launch.locale)
    return _new_form(clock, form)


def _new_form(clock: Clock, form, error: str | None = None, status: int = 200):
    return page("mentoring/session_new.html", status, clock=clock, form=form, error=error,
                learners=mentor_learners(g.launch), modes=list(MeetingMode))


@bp.post("/mentor/sessions/")
@role_required(Role.MENTOR)
def create():
    """Book the session, or show the form again saying what stands in the way."""
    clock = viewer_clock()
    try:
        draft = SessionDraft.from_form(request.form, clock.zone, _minutes())
        session = booking.book_session(g.launch, request.form.get("learner_id", type=int), draft)
    except BookingConflict as exc:
        db.session.rollback()
        return _new_form(clock, request.form, exc.describe(clock), 409)
    except (BadInput, BookingRefused) as exc:
        db.session.rollback()
        return _new_form(clock, request.form, str(exc), 400)
    db.session.commit()
    return _to_session(session.id, "booked")


@bp.get("/mentor/sessions/<int:session_id>")
@role_required(Role.MENTOR)
def detail(session_id: int):
    """One session: when and where, agenda, the learner's questions, notes, changes."""
    return _detail(viewer_clock(), session_id)


def _detail(clock: Clock, session_id: int, error: str | None = None, status: int = 200,
            form=None):
    workspace = guide.session_guide(g.launch, session_id)
    now = utcnow()
    return page(
        "mentoring/session.html", status, clock=clock, session=workspace.session,
        guide=workspace, error=error, form=form, done=DONE.get(request.args.get("done", "")),
        modes=list(MeetingMode), now=now, statuses=SessionStatus, kinds=AgendaKind,
        today=clock.today(now), goal_weeks=DEFAULT_GOAL_WEEKS, max_parts=guide.MAX_PARTS,
        next_session=summary.next_session(workspace.session), dimension_names=dimension_names,
        statuses_of_goals=list(GoalStatus),
        attainment_levels=[(level, attainment_label(level)) for level in ATTAINMENT_LEVELS],
    )


@bp.post("/mentor/sessions/<int:session_id>/reschedule")
@role_required(Role.MENTOR)
def reschedule(session_id: int):
    """Move the session, or change its place or agenda."""
    clock = viewer_clock()
    try:
        draft = SessionDraft.from_form(request.form, clock.zone, _minutes())
        booking.reschedule(g.launch, session_id, draft)
    except BookingConflict as exc:
        db.session.rollback()
        return _detail(clock, session_id, exc.describe(clock), 409, request.form)
    except (BadInput, BookingRefused) as exc:
        db.session.rollback()
        return _detail(clock, session_id, str(exc), 400, request.form)
    db.session.commit()
    return _to_session(session_id, "rescheduled")


@bp.post("/mentor/sessions/<int:session_id>/cancel")
@role_required(Role.MENTOR)
def cancel(session_id: int):
    """Cancel the session with a reason the learner will read."""
    return _change(session_id, "cancelled",
                   lambda: booking.cancel_session(g.launch, session_id,
                                                  request.form.get("reason")))


@bp.post("/mentor/sessions/<int:session_id>/outcome")
@role_required(Role.MENTOR)
def outcome(session_id: int):
    """Mark the session attended or a no-show."""
    return _change(session_id, "outcome",
                   lambda: booking.record_outcome(g.launch, session_id,
                                                  request.form.get("outcome")))


@bp.post("/mentor/sessions/<int:session_id>/notes")
@role_required(Role.MENTOR)
def add_note(session_id: int):
    """Write a shared or private note on the session."""
    part_id = request.form.get("agenda_part_id", type=int)
    return _change(session_id, "note",
                   lambda: notes.add_note(g.launch, session_id, request.form.get("visibility"),
                                          request.form.get("body"), part_id),
                   f"part-{part_id}" if part_id else "notes")


@bp.post("/mentor/notes/<int:note_id>/delete")
@role_required(Role.MENTOR)
def delete_note(note_id: int):
    """Delete a note the mentor wrote."""
    session = notes.delete_note(g.launch, note_id)
    db.session.commit()
    return _to_session(session.id, "note_deleted")


def _change(session_id: int, done: str, change, anchor: str | None = None):
    clock = viewer_clock()
    try:
        change()
    except (BadInput, BookingRefused) as exc:
        db.session.rollback()
        return _detail(clock, session_id, str(exc), 400)
    db.session.commit()
    return _to_session(session_id, done, anchor)


@bp.get("/mentor/sessions/<int:session_id>/session.ics")
@role_required(Role.MENTOR)
def session_ics(session_id: int):
    """The session for the mentor's calendar."""
    session = booking.session_for_mentor(g.launch, session_id)
    body = calendar.session_ics(session, viewer_clock().zone, for_learner=False)
    db.session.commit()
    return attachment(body, "text/calendar", f"mentoring-session-{session.id}.ics")


@bp.post("/mentor/slots")
@role_required(Role.MENTOR)
def publish_slots():
    """Publish availability slots; times that clash or have passed are left out and listed."""
    clock = viewer_clock()
    try:
        series = SlotSeries.from_form(request.form, _minutes())
        published = slots.publish_slots(g.launch, series, clock.zone)
    except BadInput as exc:
        db.session.rollback()
        return _index(clock, 400, slot_error=str(exc), slot_form=request.form)
    db.session.commit()
    return _index(clock, published=published)


@bp.post("/mentor/slots/<int:slot_id>/withdraw")
@role_required(Role.MENTOR)
def withdraw_slot(slot_id: int):
    """Take back a slot nobody has booked."""
    clock = viewer_clock()
    try:
        slots.withdraw_slot(g.launch, slot_id)
    except BookingRefused as exc:
        db.session.rollback()
        return _index(clock, 409, slot_error=str(exc))
    db.session.commit()
    return redirect(launch_url_for("sessions.index", done="withdrawn"), code=303)


@bp.post("/mentor/calendar-feed")
@role_required(Role.MENTOR)
def create_feed():
    """A new private feed URL, shown this once (only its hash is kept)."""
    token = calendar.create_feed(g.launch)
    db.session.commit()
    url = current_app.config["TOOL_URL"] + f"/calendar/{token}.ics"
    return _index(viewer_clock(), feed_url=url)


@bp.post("/mentor/calendar-feed/revoke")
@role_required(Role.MENTOR)
def revoke_feed():
    """Stop the private feed URL."""
    calendar.revoke_feed(g.launch)
    db.session.commit()
    return redirect(launch_url_for("sessions.index", done="revoked"), code=303)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """A mentor's calendar feed, fetched by calendar apps: no launch, only the secret token."""
    try:
        body = calendar.feed_for_token(token)
    except NotFound:
        db.session.rollback()
        return Response("No such calendar feed.\n", status=404, mimetype="text/plain")
    db.session.commit()
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _minutes() -> int:
    return current_app.config["MENTORING_SESSION_MINUTES"]


def _to_session(session_id: int, done: str, anchor: str | None = None):
    url = launch_url_for("sessions.detail", session_id=session_id, done=done)
    return redirect(f"{url}#{anchor}" if anchor else url, code=303)
