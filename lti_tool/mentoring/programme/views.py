"""The programme page for the course's lead mentor: what mentors may see, who mentors whom
(caseloads: by hand, by CSV, balanced), and the programme's evaluation."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import Blueprint, g, redirect, request

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Course, MentorKind, Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring.programme import caseloads, evaluation
from lti_tool.mentoring.programme.caseloads import CsvRejected
from lti_tool.mentoring.programme.models import CaseloadMode
from lti_tool.mentoring.scope import (
    BadInput,
    NotFound,
    course_learners,
    course_of,
    programme_settings,
    register_reach,
    require_lead,
    require_mentor,
)
from lti_tool.mentoring.viewer import answer_errors, attachment, page
from lti_tool.questionnaire.activity import (
    answers_shown_to_mentors,
    retake_round_dt,
    set_answers_shown,
    set_retake_round,
)

log = logging.getLogger(__name__)
bp = Blueprint("programme", __name__, url_prefix="/mentor/programme")
answer_errors(bp)
# Who sees whom is decided in scope.py; the floors below mentoring ask through the app.
bp.record_once(lambda state: register_reach(state.app))
DONE = {
    "privacy": _l("The activity's privacy setting is saved."),
    "settings": _l("The caseload setting is saved."),
    "assigned": _l("The mentor is assigned."),
    "unassigned": _l("The assignment is removed."),
    "retakes": _l("The retake date is saved."),
}


@bp.app_context_processor
def _caseload_of_learner():
    """`learner_mentors(person_id)` for the mentor's learner page: the learner's assigned
    mentors, and for the lead the mentors they may assign."""

    def learner_mentors(person_id: int) -> dict:
        course_id = g.launch.course_id
        lead = g.launch.mentor_kind is MentorKind.LEAD
        return {"assigned": programme_settings(course_id).mode is CaseloadMode.ASSIGNED,
                "mentors": caseloads.mentors_of(course_id, person_id),
                "choices": caseloads.course_mentors(course_id) if lead else []}

    return {"learner_mentors": learner_mentors}


@bp.get("/")
@role_required(Role.MENTOR)
def index():
    """The programme's settings and caseloads; only a lead mentor may change them."""
    require_mentor(g.launch)
    return _index()


def _index(status: int = 200, error: str | None = None, problems: list[str] | None = None):
    course_id = course_of(g.launch)
    made = request.args.get("made", type=int)
    done = DONE.get(request.args.get("done", ""))
    if made is not None:
        done = _l("%(count)d learner(s) newly assigned.", count=made)
    lead = g.launch.mentor_kind is MentorKind.LEAD
    return page(
        "programme/index.html", status, lead=lead,
        answers_shown=answers_shown_to_mentors(g.launch.resource_link_id),
        settings=programme_settings(course_id),
        mentors=caseloads.course_mentors(course_id),
        learners=course_learners(course_id),
        assignments=caseloads.assignments(course_id) if lead else [],
        done=done, error=error, problems=problems or [],
        max_kb=caseloads.MAX_CSV_BYTES // 1024,
        retake_round=retake_round_dt(g.launch.resource_link_id),
    )


@bp.post("/privacy")
@role_required(Role.MENTOR)
def privacy():
    """Show or hide learners' item-level answers to mentors in this activity."""
    require_lead(g.launch)
    if g.launch.resource_link_id is None:
        raise NotFound("this launch has no activity")
    set_answers_shown(g.launch.resource_link_id, request.form.get("answers_to_mentors") == "1")
    db.session.commit()
    return redirect(launch_url_for("programme.index", done="privacy"), code=303)


@bp.post("/settings")
@role_required(Role.MENTOR)
def settings():
    """Every mentor sees everyone, or mentors are assigned (and may assistants switch)."""
    try:
        caseloads.save_settings(g.launch, request.form.get("mode"),
                                request.form.get("assistants_see_course") == "1")
    except BadInput as exc:
        db.session.rollback()
        return _index(400, str(exc))
    db.session.commit()
    return _done("settings")


@bp.post("/assignments")
@role_required(Role.MENTOR)
def assign():
    """Assign one mentor to one learner by hand."""
    learner_id = request.form.get("learner_id", type=int)
    caseloads.assign(g.launch, learner_id, request.form.get("mentor_id", type=int))
    db.session.commit()
    if request.form.get("back") == "learner":
        return redirect(launch_url_for("mentoring.learner_page", person_id=learner_id,
                                       _anchor="mentors"), code=303)
    return _done("assigned")


@bp.post("/assignments/<int:assignment_id>/delete")
@role_required(Role.MENTOR)
def unassign(assignment_id: int):
    """Take an assignment back."""
    caseloads.unassign(g.launch, assignment_id)
    db.session.commit()
    return _done("unassigned")


@bp.post("/assignments/upload")
@role_required(Role.MENTOR)
def upload():
    """Assign from a CSV file: every row checked, nothing saved unless all are good."""
    require_lead(g.launch)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index(400, str(_l("Choose a CSV file to upload.")))
    # One byte more than allowed is enough to know the file is too large.
    data = upload.stream.read(caseloads.MAX_CSV_BYTES + 1)
    try:
        made = caseloads.import_csv(g.launch, data)
    except CsvRejected as exc:
        db.session.rollback()
        return _index(400, str(exc), exc.problems)
    db.session.commit()
    return redirect(launch_url_for("programme.index", made=made, _anchor="caseloads"), code=303)


@bp.post("/assignments/balance")
@role_required(Role.MENTOR)
def balance():
    """Share the learners without a mentor among the chosen mentors, fewest first."""
    try:
        made = caseloads.balance(g.launch, [int(value) for value in
                                            request.form.getlist("mentor_id") if value.isdigit()])
    except BadInput as exc:
        db.session.rollback()
        return _index(400, str(exc))
    db.session.commit()
    return redirect(launch_url_for("programme.index", made=made, _anchor="caseloads"), code=303)


def _done(done: str):
    return redirect(launch_url_for("programme.index", done=done, _anchor="caseloads"), code=303)


@bp.get("/evaluation")
@role_required(Role.MENTOR)
def evaluation_page():
    """The programme's figures for the lead mentor; small groups are suppressed."""
    return page("programme/evaluation.html", view=evaluation.evaluate(g.launch),
                min_people=evaluation.MIN_PEOPLE)


@bp.get("/evaluation.csv")
@role_required(Role.MENTOR)
def evaluation_csv():
    """The same figures as CSV (UTF-8 with a BOM), suppressed ones as on the page."""
    view = evaluation.evaluate(g.launch)
    course = db.session.get(Course, g.launch.course_id)
    body = "".join(evaluation.csv_lines(view, g.launch.locale)).encode()
    name = f"{course.label or course.context_id}-programme-{utcnow():%Y-%m-%d}.csv"
    return attachment(body, "text/csv", "".join(c if c.isalnum() or c in "._-" else "_"
                                                for c in name))


@bp.post("/retakes")
@role_required(Role.MENTOR)
def retakes():
    """Open a retake round for everyone in this activity from a date, or remove it."""
    require_lead(g.launch)
    if g.launch.resource_link_id is None:
        raise NotFound("this launch has no activity")
    opens_dt = None
    if request.form.get("action") != "remove":
        text = (request.form.get("opens") or "").strip()
        try:
            opens_dt = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            log.warning("mentor %s: bad retake round date %r", g.launch.person_id, text)
            return _index(400, str(_l("The date must be a calendar date such as 2027-03-01.")))
    set_retake_round(g.launch.resource_link_id, opens_dt, g.launch.person_id)
    db.session.commit()
    return redirect(launch_url_for("programme.index", done="retakes"), code=303)
