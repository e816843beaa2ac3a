"""Record every mentor or observer request that shows or changes learner data in the audit log."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError

from lti_tool.extensions import db
from lti_tool.identity import audit
from lti_tool.identity.models import Role

log = logging.getLogger(__name__)

#: Blueprints whose mentor pages show or change learners' data.
AUDITED_BLUEPRINTS = frozenset(
    {"mentoring", "gradebook", "sessions", "goals", "plan", "questionnaire", "dataprotection",
     "observer", "programme", "report"}
)
#: Request values that name the learner concerned.
SUBJECT_KEYS = ("person_id", "learner_id")


def _subject() -> int | None:
    for key in SUBJECT_KEYS:
        value = (request.view_args or {}).get(key) or request.form.get(key)
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def audit_mentor_request(response):
    """after_request: one audit entry per successful mentor or observer request to an
    audited page."""
    launch = g.get("launch")
    if (launch is None or launch.role not in (Role.MENTOR, Role.OBSERVER)
            or response.status_code >= 400
            or request.blueprint not in AUDITED_BLUEPRINTS):
        return response
    try:
        audit.record(
            f"{request.method} {request.endpoint}", actor_person_id=launch.person_id,
            subject_person_id=_subject(), course_id=launch.course_id,
            detail={"path": request.path, "status": response.status_code},
        )
        db.session.commit()
    except SQLAlchemyError as exc:
        # The page was served; losing its audit line is logged loudly, not shown.
        db.session.rollback()
        log.error("audit entry not written for %s: %s", request.path, exc)
    return response


def install(app: Flask) -> None:
    """Attach the audit hook."""
    app.after_request(audit_mentor_request)
