"""The Canvas profile's pages and OIDC endpoints, each on the host Canvas serves it from.

The school's host (`school.localhost`, like school.instructure.com) serves the course page,
the login initiation, the authorization that issues the id_token, the services and the Deep
Linking return; Canvas's own host (`sso.localhost`, like sso.canvaslms.com) serves
authorize_redirect, the keys, the token endpoint and the Platform Storage forwarding frame.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request

from .canvas import PLACEMENTS, STORAGE_FRAME
from .claims import LaunchRefused
from .deeplinking import contentitem_return
from .launches import start_launch
from .oidc import authorize, autopost, error_page
from .tokens import token_endpoint

bp = Blueprint("devplatform_canvas", __name__)


def _platform():
    return current_app.extensions["devplatform"]


def on_host(kind: str):
    """Serve the view only in the Canvas profile and on the school's or Canvas's host."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            platform = _platform()
            if not platform.is_canvas or platform.canvas_hosts.kind(request.host_url) != kind:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorate


@bp.get("/courses/<course_id>")
@on_host("school")
def course_page(course_id: str):
    """A course as one user sees it: the tool in #tool_content, from a placement."""
    platform = _platform()
    course = platform.store.course(course_id)
    user = platform.store.member(course_id, request.args.get("as", ""), observers=True)
    if course is None or user is None:
        abort(404)
    activities = platform.store.activities(course_id)
    placement = request.args.get("placement", "course_navigation")
    if placement not in PLACEMENTS:
        abort(404)
    assignment = next((a for a in activities
                       if str(a["id"]) == request.args.get("assignment", "")), None)
    if placement == "assignment" and assignment is None:
        assignment = activities[0] if activities else None
    query = {"user": user["id"], "placement": placement}
    if placement == "assignment" and assignment:
        query["assignment"] = assignment["id"]
    return render_template(
        "devplatform/canvas_course.html", platform=platform, course=course, user=user,
        activities=activities, placement=placement, assignment=assignment,
        frame_url=f"/courses/{course_id}/external_tools/launch?{urlencode(query)}",
        forwarding_url=platform.canvas_hosts.sso + "/post_message_forwarding",
        storage_frame=STORAGE_FRAME,
    )


@bp.get("/courses/<course_id>/external_tools/launch")
@on_host("school")
def launch(course_id: str):
    """The login initiation: an auto-submitting form POST to the tool."""
    platform = _platform()
    placement = request.args.get("placement", "course_navigation")
    if placement not in PLACEMENTS:
        return error_page("Launch refused", f"unknown placement {placement!r}", 404)
    activity_id = request.args.get("assignment") if placement == "assignment" else None
    try:
        url, fields = start_launch(
            platform, request.args.get("user", ""), course_id=course_id,
            resource_link_id=activity_id, message_type=PLACEMENTS[placement],
            placement=placement,
        )
    except LaunchRefused as exc:
        return error_page("Launch refused", str(exc), 403)
    return autopost(url, fields, "Launching the tool")


@bp.route("/api/lti/authorize_redirect", methods=["GET", "POST"])
@on_host("sso")
def authorize_redirect():
    """Canvas's one OIDC endpoint for every school: it sends the browser to the school's
    own host, where the person's Canvas session lives."""
    params = request.form if request.method == "POST" else request.args
    return redirect(f"{_platform().canvas_hosts.school}/api/lti/authorize?"
                    f"{urlencode(list(params.items(multi=True)))}", code=302)


@bp.route("/api/lti/authorize", methods=["GET", "POST"])
@on_host("school")
def authorize_on_school_host():
    """Issue the id_token (the checks are Moodle's and Canvas's shared ones)."""
    return authorize(_platform(), request.form if request.method == "POST" else request.args)


@bp.get("/api/lti/security/jwks")
@on_host("sso")
def jwks():
    """Canvas's public keys."""
    return jsonify(_platform().jwks())


@bp.post("/login/oauth2/token")
@on_host("sso")
def token():
    """OAuth 2 client credentials with a JWT assertion."""
    return token_endpoint()


@bp.get("/post_message_forwarding")
@on_host("sso")
def post_message_forwarding():
    """The frame that relays the tool's Platform Storage messages to the course page."""
    return render_template("devplatform/forwarding.html",
                           parent_origin=_platform().canvas_hosts.school)


@bp.post("/courses/<course_id>/deep_linking_response")
@on_host("school")
def deep_linking_response(course_id: str):
    """The Deep Linking return (form field JWT)."""
    return contentitem_return(course_id)


@bp.get("/courses/<course_id>/external_content/success/external_tool_redirect")
@on_host("school")
def tool_return(course_id: str):
    """The launch_presentation return_url."""
    course = _platform().store.course(course_id)
    if course is None:
        abort(404)
    return render_template("devplatform/return.html", course=course,
                           msg=request.args.get("lti_msg"),
                           errormsg=request.args.get("lti_errormsg"))
