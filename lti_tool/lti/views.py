"""LTI endpoints: OIDC login, launch, and the tool's public keys."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for

from lti_tool.extensions import db
from lti_tool.identity.models import Role
from lti_tool.lti import keys
from lti_tool.lti.provisioning import provision
from lti_tool.lti.session import TOKEN_PARAM, role_required, start_session
from lti_tool.lti.validation import CLAIM, LaunchError, ToolLaunch, begin_login, describe

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")
well_known = Blueprint("well_known", __name__)


def _refuse(exc: LaunchError, step: str):
    db.session.rollback()
    log.warning("%s refused (%s): %s", step, exc.status, exc.detail)
    return render_template("lti/error.html", message=exc.message, step=step), exc.status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Third-party initiated login: Moodle posts a form, others use GET."""
    try:
        url, cookies = begin_login()
    except LaunchError as exc:
        return _refuse(exc, "login")
    return cookies.apply(redirect(url, code=302))


def _landing(role: Role, message_type: str, has_course: bool) -> str:
    if message_type == "LtiDeepLinkingRequest":
        return "lti.deep_link"
    if not has_course:
        return "lti.no_course"
    return "mentoring.cohort_page" if role is Role.MENTOR else "questionnaire.start"


@bp.post("/launch")
def launch():
    """Validate the platform's id_token, record who came, and open their landing page."""
    try:
        lti_launch = ToolLaunch().validate()
    except LaunchError as exc:
        return _refuse(exc, "launch")
    claims = lti_launch.claims
    person, course, link, role = provision(lti_launch.platform, lti_launch.deployment, claims)
    message_type = claims[CLAIM + "message_type"]
    token = start_session(
        person, lti_launch.deployment.id, course, link, role, message_type, claims
    )
    db.session.commit()
    log.info("launch accepted as %s: %s", role.value, describe(claims))
    if role is Role.NONE:
        return render_template(
            "lti/no_role.html", person=person, course=course, roles=claims.get(CLAIM + "roles")
        ), 403
    endpoint = _landing(role, message_type, course is not None)
    return redirect(url_for(endpoint, **{TOKEN_PARAM: token}), code=303)


@bp.get("/no-course")
@role_required(Role.LEARNER, Role.MENTOR)
def no_course():
    """A launch without a course context: explain where the tool works."""
    return render_template("lti/no_course.html")


@bp.get("/deep-link")
@role_required(Role.MENTOR)
def deep_link():
    """Deep Linking (adding the activity from the LMS): not built yet, said plainly."""
    return render_template("lti/deep_link.html")


@bp.get("/jwks")
def jwks():
    """The tool's public keys, for platforms to verify what the tool signs."""
    response = jsonify(keys.jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@well_known.get("/.well-known/jwks.json")
def well_known_jwks():
    """The same key set at the conventional address."""
    return jwks()


@bp.get("/config")
def registration_info():
    """The URLs an LMS administrator pastes into a manual registration."""
    base = current_app.config["TOOL_URL"]
    return render_template(
        "lti/registration_info.html",
        urls={
            "tool_url": base + "/lti/launch",
            "login_url": base + "/lti/login",
            "redirect_uri": base + "/lti/launch",
            "jwks_url": base + "/lti/jwks",
        },
    )
