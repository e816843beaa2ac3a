"""OIDC third-party login: the login-initiation page, auth.php and the platform's JWKS."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from .canvas import STORAGE_FRAME, build_canvas_claims, opaque_id
from .claims import (
    DEEP_LINKING,
    RESOURCE_LINK,
    LaunchRefused,
    build_launch_claims,
    launch_subject,
)
from .launches import BadMessageHint, launch_id_from_hint, start_launch, use_launch

bp = Blueprint("devplatform_oidc", __name__)

REQUIRED_AUTH_PARAMS = (
    "scope", "response_type", "client_id", "redirect_uri", "login_hint", "nonce",
)


def error_page(title: str, message: str, status: int = 400):
    """The platform's own error page: what Moodle shows when it cannot trust the request."""
    note = "This page comes from the platform: the tool is not told of this error."
    return render_template(
        "devplatform/error.html", title=title, message=message, note=note
    ), status


def autopost(action: str, fields: dict, title: str):
    """An auto-submitting form POST (external script, noscript button), never cached."""
    body = render_template("devplatform/autopost.html", action=action, fields=fields, title=title)
    return body, 200, {"Cache-Control": "no-store"}


@bp.get("/mod/lti/launch.php")
def launch():
    """Start a launch: ?id=<cmid>&user=<id>, or ?course=<id>&user=<id>&kind=deeplink."""
    platform = current_app.extensions["devplatform"]
    user_id = request.args.get("user", "")
    try:
        if request.args.get("kind") == "deeplink":
            url, fields = start_launch(
                platform, user_id, course_id=request.args.get("course", ""),
                resource_link_id=None, message_type=DEEP_LINKING,
            )
        else:
            activity = platform.store.activity_by_cmid(request.args.get("id", ""))
            if activity is None:
                return error_page("No such activity", "The course module id is unknown.", 404)
            url, fields = start_launch(
                platform, user_id, course_id=activity["course_id"],
                resource_link_id=activity["resource_link_id"], message_type=RESOURCE_LINK,
            )
    except LaunchRefused as exc:
        return error_page("Launch refused", str(exc), 403)
    return autopost(url, fields, "Launching the tool")


@bp.route("/mod/lti/auth.php", methods=["GET", "POST"])
def auth():
    """The OIDC authorization endpoint, with Moodle 4.5's checks in Moodle's order."""
    platform = current_app.extensions["devplatform"]
    return authorize(platform, request.form if request.method == "POST" else request.args)


def authorize(platform, params):
    """Check an authentication request and answer with the id_token form (or an error).

    Moodle's auth.php and Canvas's /api/lti/authorize share these checks; the message hint
    and the claims are each profile's own.
    """
    missing = [name for name in REQUIRED_AUTH_PARAMS if not params.get(name)]
    if missing:
        return error_page("Invalid request", f"Missing parameter(s): {', '.join(missing)}.")
    try:
        launch_id = launch_id_from_hint(platform, params.get("lti_message_hint", ""))
    except BadMessageHint as exc:
        return error_page("Invalid request", str(exc))
    if params["scope"] != "openid":
        return error_page("Invalid request", "invalid_scope: scope must be openid.")
    if params["response_type"] != "id_token":
        return error_page("Invalid request", "unsupported_response_type: must be id_token.")
    launch = use_launch(platform, launch_id)
    if launch is None:
        return error_page(
            "Invalid request",
            "The launch id is unknown or was already used: each launch id works once.",
        )
    if params["lti_message_hint"] != launch["message_hint"]:
        return error_page("Invalid request", "lti_message_hint must be echoed verbatim.")
    # Until the redirect_uri is known to be registered it cannot be trusted to receive
    # anything, so the tool never hears of the errors above.
    redirect_uri = params["redirect_uri"]
    if redirect_uri not in platform.tool.redirect_uris:
        return error_page(
            "Invalid request",
            f"redirect_uri {redirect_uri!r} is not one of the tool's registered redirection "
            f"URIs (matched exactly): {', '.join(platform.tool.redirect_uris)}.",
        )
    error = _posted_error(platform, params, launch)
    state = params.get("state", "")
    if error:
        code, description = error
        return autopost(
            redirect_uri,
            {"error": code, "error_description": description, "state": state},
            "Returning an error to the tool",
        )
    try:
        claims = launch_claims(platform, launch, params["nonce"])
    except LaunchRefused as exc:
        return error_page("Launch refused", str(exc), 403)
    fields = {"id_token": platform.sign_jwt(claims), "state": state}
    if platform.is_canvas:
        # Canvas posts lti_storage_target with the launch too (doc/api/lti_dev_key_config.md).
        fields["lti_storage_target"] = STORAGE_FRAME
    return autopost(redirect_uri, fields, "Launching the tool")


def launch_claims(platform, launch: dict, nonce: str) -> dict:
    """The id_token claims for a recorded launch, in the platform's current profile."""
    activity_id = None if launch["activity_id"] is None else str(launch["activity_id"])
    if not platform.is_canvas:
        return build_launch_claims(
            platform, launch["user_id"], course_id=launch["course_id"],
            resource_link_id=activity_id, message_type=launch["message_type"], nonce=nonce,
            target_link_uri=launch["target_link_uri"],
        )
    course, member, activity = launch_subject(
        platform.store, launch["user_id"], launch["course_id"], activity_id,
        launch["message_type"], canvas=True,
    )
    return build_canvas_claims(platform, launch, member, course, activity, nonce=nonce)


def _posted_error(platform, params, launch: dict) -> tuple[str, str] | None:
    """Errors Moodle sends back to a trusted redirect_uri as an OIDC error response."""
    if params["client_id"] != platform.client_id:
        return "unauthorized_client", "client_id is not this tool's"
    expected_hint = (opaque_id("user", launch["user_id"]) if platform.is_canvas
                     else launch["user_id"])
    if params["login_hint"] != expected_hint:
        return "access_denied", "login_hint is not the user who started this launch"
    if platform.is_canvas and not params.get("prompt"):
        # Canvas requires prompt (AuthenticationController::REQUIRED_PARAMS); Moodle does not.
        return "invalid_request_object", "The following parameters are missing: prompt"
    if params.get("response_mode") != "form_post":
        return "invalid_request", "Invalid response_mode: must be form_post"
    if params.get("prompt") not in (None, "", "none"):
        return "invalid_request", "Invalid prompt: must be none"
    return None


@bp.get("/mod/lti/certs.php")
def certs():
    """The platform's public keys."""
    return jsonify(current_app.extensions["devplatform"].jwks())
