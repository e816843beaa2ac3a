"""The mentor's pages: the cohort, its statistics, one learner, and the CSV export.

Every page is scoped by the launch: its course, and within it its activity. Filters and
sorting are plain GET forms carrying the launch token, so the pages work without JavaScript
and inside an LMS iframe without cookies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext as _

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.identity.models import Course, Role, utcnow
from lti_tool.lti import roster
from lti_tool.lti.session import launch_url_pattern, role_required
from lti_tool.mentoring import cohort as cohorts
from lti_tool.mentoring.change import course_change
from lti_tool.mentoring.cohort import NoCohort, Status
from lti_tool.mentoring.export import csv_lines
from lti_tool.mentoring.learner import LearnerNotFound, learner_detail
from lti_tool.mentoring.listing import (
    CohortFilter,
    export_rows,
    result_versions,
    select_page,
)
from lti_tool.mentoring.plan import plan_summaries
from lti_tool.mentoring.programme.caseloads import cohort_scope
from lti_tool.mentoring.statistics import statistics_view
from lti_tool.mentoring.viewer import viewer_clock
from lti_tool.questionnaire.versions import current_instrument

log = logging.getLogger(__name__)
T = TypeVar("T")
bp = Blueprint("mentoring", __name__, url_prefix="/mentor")
#: Other features' pages these pages link to or post to, when the app has them.
GRADES_ENDPOINT = "gradebook.sync_status"
RETAKE_ENDPOINT = "questionnaire.allow_retake"


# Every mentor page shares one menu (mentoring/_nav.html), whichever blueprint serves it.
@bp.app_context_processor
def _other_features():
    present = current_app.view_functions
    return {
        "grades_endpoint": GRADES_ENDPOINT if GRADES_ENDPOINT in present else None,
        "retake_endpoint": RETAKE_ENDPOINT if RETAKE_ENDPOINT in present else None,
    }


@bp.get("/")
@role_required(Role.MENTOR)
def cohort_page():
    """The mentor's landing page: every learner of the course with their state."""
    if g.launch.course_id is None:
        abort(404)
    # Before anything else is written: the sync uses the shared store (see lti/roster.py).
    roster_state = roster.refresh_if_stale(g.launch.course_id)
    scope = cohort_scope(g.launch, request.args.get("view"))
    wanted = _filter()
    page = _cohort(lambda: select_page(g.launch, wanted, scope.caseload_only))
    return render_template(
        "mentoring/cohort.html",
        launch=g.launch,
        cohort=page.cohort,
        wanted=wanted,
        page=page,
        roster_state=roster_state,
        statuses=list(Status),
        sorts=[("name", _("Name")), ("status", _("Status")), ("overall", _("Overall index")),
               ("submitted", _("Submitted"))],
        score=_score_text,
        grade_state_text=cohorts.grade_state_text,
        grade_state_detail=cohorts.grade_state_detail,
        plans=plan_summaries(g.launch.course_id, learner_ids=[row.person_id for row in page.rows]),
        scope=scope,
        clock=viewer_clock(),
        learner_url=launch_url_pattern("mentoring.learner_page", "person_id"),
        plan_url=launch_url_pattern("goals.learner_plan", "person_id"),
    )


@bp.get("/statistics")
@role_required(Role.MENTOR)
def statistics_page():
    """Per-dimension mean, spread, distribution and Cronbach's alpha; response quality."""
    scope = cohort_scope(g.launch, request.args.get("view"))
    view = _cohort(lambda: statistics_view(g.launch, scope.caseload_only, g.launch.locale))
    return render_template("mentoring/statistics.html", launch=g.launch, view=view)


@bp.get("/change")
@role_required(Role.MENTOR)
def change_page():
    """Pre/post change per dimension: each learner's first attempt against their latest."""
    if g.launch.course_id is None:
        abort(404)
    return render_template("mentoring/change.html", launch=g.launch,
                           view=course_change(g.launch, g.launch.locale))


@bp.get("/learners/<int:person_id>")
@role_required(Role.MENTOR)
def learner_page(person_id: int):
    """One learner: profile with the course average, answers item by item, attempts."""
    return _learner(person_id, None)


@bp.get("/learners/<int:person_id>/attempts/<int:attempt_id>")
@role_required(Role.MENTOR)
def learner_attempt(person_id: int, attempt_id: int):
    """One learner with one of their attempts selected."""
    return _learner(person_id, attempt_id)


def _learner(person_id: int, attempt_id: int | None):
    try:
        detail = learner_detail(g.launch, person_id, attempt_id)
    except LearnerNotFound as exc:
        # Another course's learner looks exactly like one that does not exist.
        log.warning("mentor %s: %s", g.launch.person_id, exc)
        abort(404)
    return render_template("mentoring/learner.html", launch=g.launch, detail=detail)


@bp.get("/export.csv")
@role_required(Role.MENTOR)
def export_csv():
    """The cohort (as filtered on the page) as CSV: UTF-8 with a BOM, streamed: rows are read
    from the database in batches while the response is being sent."""
    scope = cohort_scope(g.launch, request.args.get("view"))
    wanted = _filter()
    launch = g.launch
    versions = _cohort(lambda: result_versions(launch, scope.caseload_only))
    cohort = cohorts.cohort_of(launch, (), launch.resource_link_id is not None, versions)
    course = db.session.get(Course, launch.course_id)
    name = f"{course.label or course.context_id}-cohort-{utcnow():%Y-%m-%d}.csv"
    rows = export_rows(launch, wanted, scope.caseload_only)
    response = Response(stream_with_context(csv_lines(cohort, rows, launch.locale)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_ascii_filename(name)}"; filename*=UTF-8\'\'{quote(name)}'
    )
    # Names and e-mail addresses: nothing in between should keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _cohort(service: Callable[[], T]) -> T:
    """Run a cohort service; a launch without a course answers 404."""
    try:
        return service()
    except NoCohort as exc:
        # A launch without a course (only reachable with a hand-made URL): nothing to show.
        log.info("mentor %s: %s", g.launch.person_id, exc)
        abort(404)


def _filter() -> CohortFilter:
    return CohortFilter.from_args(
        request.args, [dimension.id for dimension in current_instrument().dimensions]
    )


def _score_text(value: float | None) -> str:
    return "—" if value is None else display(value, g.launch.locale)


def _ascii_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "cohort.csv"
