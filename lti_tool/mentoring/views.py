"""The mentor's pages."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from lti_tool.identity.models import Role
from lti_tool.lti.session import role_required
from lti_tool.mentoring import cohort

bp = Blueprint("mentoring", __name__, url_prefix="/mentor")


@bp.get("/")
@role_required(Role.MENTOR)
def cohort_page():
    """The mentor's landing page: the course's learners."""
    return render_template(
        "mentoring/cohort.html", launch=g.launch, learners=cohort.learners(g.launch)
    )
