"""What the programme shows a learner on their plan page: who their mentor is, and a form to
rate each session they attended."""

from __future__ import annotations

import logging

from flask import Blueprint, g, redirect, render_template, request
from werkzeug.exceptions import BadRequest

from lti_tool.extensions import db
from lti_tool.identity.models import Role
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring.programme import ratings
from lti_tool.mentoring.programme.caseloads import mentors_of
from lti_tool.mentoring.scope import BadInput
from lti_tool.mentoring.viewer import answer_errors

log = logging.getLogger(__name__)
bp = Blueprint("ratings", __name__, url_prefix="/plan")
answer_errors(bp)


@bp.app_context_processor
def _programme_for_learner():
    """`my_mentors()` and `my_ratings()` for the learner's plan page (one query each)."""

    def my_mentors():
        launch = g.get("launch")
        if launch is None or launch.course_id is None:
            return []
        return mentors_of(launch.course_id, launch.person_id)

    def my_ratings():
        launch = g.get("launch")
        if launch is None or launch.course_id is None or launch.role is not Role.LEARNER:
            return {}
        return ratings.learner_ratings(launch)

    return {"my_mentors": my_mentors, "my_ratings": my_ratings, "rating_scale": ratings.SCALE}


@bp.post("/sessions/<int:session_id>/rating")
@role_required(Role.LEARNER)
def rate(session_id: int):
    """Save the learner's rating of a session they attended."""
    try:
        ratings.rate_session(g.launch, session_id, request.form.get("rating"),
                             request.form.get("helped"))
    except BadInput as exc:
        # The form offers only valid choices: this is a hand-made request.
        db.session.rollback()
        log.warning("person %s: rating refused: %s", g.launch.person_id, exc)
        return render_template("error.html", error=BadRequest(str(exc)), launch=g.launch), 400
    db.session.commit()
    return redirect(launch_url_for("plan.index", rated=session_id,
                                   _anchor=f"session-{session_id}"), code=303)
