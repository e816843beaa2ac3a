"""Downloads of the profile and plan PDFs, for the learner and for their mentor.

The learner reaches only their own attempts and plan; a mentor only learners of the launch's
course that they may see (the same checks as the pages the documents mirror). A plan PDF
holds the learner-level view even when a mentor downloads it, so it can be handed over.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, g, redirect

from lti_tool.extensions import db
from lti_tool.identity.models import Person, Role, utcnow
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.mentoring.learner import LearnerNotFound, learner_detail
from lti_tool.mentoring.plan import handover_plan, learner_plan
from lti_tool.mentoring.viewer import answer_errors, attachment, viewer_clock
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.delivery import AttemptNotFound
from lti_tool.questionnaire.results import results_view
from lti_tool.report.documents import PDF_MIMETYPE, filename, plan_pdf, profile_pdf

log = logging.getLogger(__name__)
bp = Blueprint("report", __name__, url_prefix="/report")
answer_errors(bp)


@bp.get("/attempts/<int:attempt_id>/profile.pdf")
@role_required(Role.LEARNER)
def own_profile(attempt_id: int):
    """The learner's own profile as a PDF."""
    try:
        attempt = delivery.find_attempt(g.launch, attempt_id)
    except AttemptNotFound as exc:
        log.warning("person %s: %s", g.launch.person_id, exc)
        abort(404)
    if not attempt.is_submitted:
        return redirect(launch_url_for("questionnaire.start"), code=303)
    learner = db.session.get(Person, g.launch.person_id)
    now = utcnow()
    body = profile_pdf(g.launch, learner, results_view(attempt, g.launch.locale), now)
    return attachment(body, PDF_MIMETYPE, filename("profile", now))


@bp.get("/plan.pdf")
@role_required(Role.LEARNER)
def own_plan():
    """The learner's own development plan as a PDF."""
    now = utcnow()
    body = plan_pdf(g.launch, learner_plan(g.launch, now), viewer_clock(), now)
    db.session.commit()
    return attachment(body, PDF_MIMETYPE, filename("development-plan", now))


@bp.get("/learners/<int:person_id>/attempts/<int:attempt_id>/profile.pdf")
@role_required(Role.MENTOR)
def learner_profile(person_id: int, attempt_id: int):
    """A learner's profile as their mentor downloads it."""
    try:
        detail = learner_detail(g.launch, person_id, attempt_id)
    except LearnerNotFound as exc:
        log.warning("mentor %s: %s", g.launch.person_id, exc)
        abort(404)
    if detail.results is None or detail.selected is None or detail.selected.id != attempt_id:
        abort(404)
    now = utcnow()
    body = profile_pdf(g.launch, db.session.get(Person, person_id), detail.results, now)
    return attachment(body, PDF_MIMETYPE, filename("profile", now))


@bp.get("/learners/<int:person_id>/plan.pdf")
@role_required(Role.MENTOR)
def learner_plan_pdf(person_id: int):
    """A learner's development plan as their mentor downloads it (learner-level content)."""
    now = utcnow()
    body = plan_pdf(g.launch, handover_plan(g.launch, person_id, now), viewer_clock(), now)
    db.session.commit()
    return attachment(body, PDF_MIMETYPE, filename("development-plan", now))
