"""The programme page for the course's lead mentor: what mentors may see, and (when mentors
are assigned) who mentors whom."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import Blueprint, g, redirect, request

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring.scope import NotFound, require_lead, require_mentor
from lti_tool.mentoring.viewer import answer_errors, page
from lti_tool.questionnaire.activity import (
    answers_shown_to_mentors,
    retake_round_dt,
    set_answers_shown,
    set_retake_round,
)

log = logging.getLogger(__name__)
bp = Blueprint("programme", __name__, url_prefix="/mentor/programme")
answer_errors(bp)
DONE = {
    "privacy": _l("The activity's privacy setting is saved."),
    "retakes": _l("The retake date is saved."),
}


@bp.get("/")
@role_required(Role.MENTOR)
def index():
    """The programme's settings; only a lead mentor may change them."""
    require_mentor(g.launch)
    return page("programme/index.html", answers_shown=answers_shown_to_mentors(
        g.launch.resource_link_id), retake_round=retake_round_dt(g.launch.resource_link_id),
        done=DONE.get(request.args.get("done", "")))


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
            return page("programme/index.html", status=400, answers_shown=answers_shown_to_mentors(
                g.launch.resource_link_id), retake_round=retake_round_dt(
                g.launch.resource_link_id),
                error=_l("The date must be a calendar date such as 2027-03-01."))
    set_retake_round(g.launch.resource_link_id, opens_dt, g.launch.person_id)
    db.session.commit()
    return redirect(launch_url_for("programme.index", done="retakes"), code=303)
