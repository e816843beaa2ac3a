"""The mentor's gradebook pages: scores on their way to the LMS, the grade mode, and the
activity picker a Deep Linking launch opens."""

from __future__ import annotations

import logging

from flask import Blueprint, g, redirect, render_template, request
from flask_babel import gettext as _

from lti_tool.extensions import db
from lti_tool.gradebook import status
from lti_tool.gradebook.models import ScoreRecord
from lti_tool.gradebook.settings import (
    DEFAULT_MAXIMUM,
    DEFAULT_TITLE,
    SettingsError,
    choose_activity,
    launch_custom,
    parse_mode,
)
from lti_tool.identity.models import Role
from lti_tool.lti import deep_linking
from lti_tool.lti.session import launch_url_for, learner_reach, role_required

log = logging.getLogger(__name__)
bp = Blueprint("gradebook", __name__, url_prefix="/gradebook")


def _notice(title: str, message: str, code: int):
    return render_template(
        "gradebook/notice.html", launch=g.launch, title=title, message=message
    ), code


def _no_activity():
    return _notice(
        _("Open the tool from an activity"),
        _("Grades belong to one activity of a course. Open the tool from the activity in your "
          "course to see its grades."),
        404,
    )


@bp.get("/")
@role_required(Role.MENTOR)
def sync_status():
    """Each learner's score in this activity: sent (when), pending (next try), failed (why)."""
    if g.launch.resource_link_id is None:
        return _no_activity()
    view = status.overview(g.launch.resource_link_id, launch_custom(g.launch.claims))
    rows = status.sync_rows(g.launch.course_id, g.launch.resource_link_id,
                            learner_reach(g.launch, ScoreRecord.person_id))
    db.session.commit()  # the settings row, when this is its first use
    return render_template(
        "gradebook/sync_status.html", launch=g.launch, view=view, rows=rows,
        retried=request.args.get("retried"), released=request.args.get("released"),
        withheld=request.args.get("withheld"),
    )


@bp.post("/records/<int:record_id>/retry")
@role_required(Role.MENTOR)
def retry(record_id: int):
    """Send a failed score again, now."""
    if g.launch.resource_link_id is None:
        return _no_activity()
    try:
        status.retry(g.launch.course_id, g.launch.resource_link_id, record_id,
                     reach=learner_reach(g.launch, ScoreRecord.person_id))
    except status.RecordNotFound:
        db.session.rollback()
        return _notice(_("No such score"), _("There is no such score in this activity."), 404)
    except status.NotRetryable as exc:
        db.session.rollback()
        return _notice(_("Not possible"), _sentence(str(exc)), 409)
    db.session.commit()
    log.info("person %s retried score %s", g.launch.person_id, record_id)
    return redirect(launch_url_for("gradebook.sync_status", retried=record_id), code=303)


def _review(record_id: int, action, done: str):
    if g.launch.resource_link_id is None:
        return _no_activity()
    try:
        action(g.launch.course_id, g.launch.resource_link_id, record_id,
               reach=learner_reach(g.launch, ScoreRecord.person_id))
    except status.RecordNotFound:
        db.session.rollback()
        return _notice(_("No such score"), _("There is no such score in this activity."), 404)
    except (status.NotRetryable, status.NotHeld) as exc:
        db.session.rollback()
        return _notice(_("Not possible"), _sentence(str(exc)), 409)
    db.session.commit()
    log.info("person %s %s score %s", g.launch.person_id, done, record_id)
    return redirect(launch_url_for("gradebook.sync_status", **{done: record_id}), code=303)


@bp.post("/records/<int:record_id>/release")
@role_required(Role.MENTOR)
def release(record_id: int):
    """Send a score held for review (a flagged response in score mode) after all."""
    return _review(record_id, status.release, "released")


@bp.post("/records/<int:record_id>/withhold")
@role_required(Role.MENTOR)
def withhold(record_id: int):
    """Keep a score held for review from the LMS."""
    return _review(record_id, status.withhold, "withheld")


@bp.get("/settings")
@role_required(Role.MENTOR)
def settings():
    """The activity's grade mode and line item, and why grades may not reach the LMS."""
    if g.launch.resource_link_id is None:
        return _no_activity()
    view = status.overview(g.launch.resource_link_id, launch_custom(g.launch.claims))
    db.session.commit()
    return render_template(
        "gradebook/settings.html", launch=g.launch, view=view,
        saved=request.args.get("saved"), again=request.args.get("again", type=int),
    )


@bp.post("/settings")
@role_required(Role.MENTOR)
def settings_update():
    """Change the grade mode; scores already recorded are sent again in the new mode."""
    if g.launch.resource_link_id is None:
        return _no_activity()
    try:
        mode = parse_mode(request.form.get("grade_mode"))
    except SettingsError as exc:
        view = status.overview(g.launch.resource_link_id, launch_custom(g.launch.claims))
        return render_template(
            "gradebook/settings.html", launch=g.launch, view=view, error=_sentence(str(exc)),
        ), 400
    again = status.change_mode(g.launch.resource_link_id, mode, launch_custom(g.launch.claims))
    db.session.commit()
    log.info("person %s set the grade mode of link %s to %s",
             g.launch.person_id, g.launch.resource_link_id, mode)
    return redirect(launch_url_for("gradebook.settings", saved=1, again=again), code=303)


@bp.get("/deep-link")
@role_required(Role.MENTOR)
def deep_link():
    """Deep Linking: the mentor picks the new activity's title, grade mode and maximum."""
    try:
        request_settings = deep_linking.request_settings(g.launch)
    except deep_linking.DeepLinkingError as exc:
        return _notice(_("Cannot add an activity here"), _sentence(str(exc)), 400)
    return render_template(
        "gradebook/deep_link.html", launch=g.launch,
        form={"title": request_settings.get("title") or str(DEFAULT_TITLE),
              "grade_mode": "completion", "score_maximum": f"{DEFAULT_MAXIMUM:g}"},
    )


@bp.post("/deep-link")
@role_required(Role.MENTOR)
def deep_link_respond():
    """Sign the chosen activity and post it back to the platform (an auto-submitting form)."""
    form = {key: request.form.get(key, "") for key in ("title", "grade_mode", "score_maximum")}
    try:
        choice = choose_activity(form["title"], form["grade_mode"], form["score_maximum"])
        response = deep_linking.respond(g.launch, deep_linking.ActivityItem(
            title=choice.title, score_maximum=choice.score_maximum, label=choice.title,
            custom=choice.custom,
        ))
    except SettingsError as exc:
        return render_template(
            "gradebook/deep_link.html", launch=g.launch, form=form, error=_sentence(str(exc)),
        ), 400
    except deep_linking.DeepLinkingError as exc:
        return _notice(_("Cannot add an activity here"), _sentence(str(exc)), 400)
    log.info("person %s added an activity by Deep Linking (%s, %s)",
             g.launch.person_id, choice.grade_mode, choice.score_maximum)
    return render_template(
        "gradebook/deep_link_return.html", launch=g.launch, response=response, choice=choice
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
