"""The learner's pages: start, take, results."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from lti_tool.identity.models import Role
from lti_tool.lti.session import role_required

bp = Blueprint("questionnaire", __name__, url_prefix="/questionnaire")


@bp.get("/")
@role_required(Role.LEARNER)
def start():
    """The learner's landing page."""
    return render_template("questionnaire/start.html", launch=g.launch)
