"""The platform's own pages: console, course and activity pages, gradebook, settings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request

from .config import (
    AGS_FAILURES,
    AGS_MODES,
    CANVAS_PRIVACY_LEVELS,
    LAUNCH_LOCALES,
    LAUNCH_ROLES,
    PROFILES,
    origin_of,
)

bp = Blueprint("devplatform_console", __name__)

BOOLEAN_SWITCHES = ("nrps_enabled", "share_name", "share_email", "platform_storage",
                    "launch_anonymous")
#: Switches that take one of a few values: name → the values allowed.
CHOICE_SWITCHES = {"ags_mode": AGS_MODES, "profile": PROFILES,
                   "canvas_privacy": CANVAS_PRIVACY_LEVELS, "launch_locale": LAUNCH_LOCALES,
                   "launch_role": LAUNCH_ROLES}


def _platform():
    return current_app.extensions["devplatform"]


def _course_or_404(course_id: str) -> dict:
    course = _platform().store.course(course_id)
    if course is None:
        abort(404)
    return course


def _course_and_member_or_404(course_id: str, user_id: str) -> tuple[dict, dict]:
    course = _course_or_404(course_id)
    user = _platform().store.member(course["id"], user_id)
    if user is None:
        abort(404)
    return course, user


@bp.get("/")
def index():
    """The console: courses, users with "Launch as", registration details, switches."""
    platform = _platform()
    courses = [
        {**course, "users": platform.users(course["id"]),
         "activities": platform.store.activities(course["id"])}
        for course in platform.store.courses()
    ]
    return render_template(
        "devplatform/console.html", platform=platform, courses=courses,
        suggested_registration_url=origin_of(platform.tool.target_link_uri) + "/lti/register",
        profiles=PROFILES, locales=LAUNCH_LOCALES, roles=LAUNCH_ROLES,
        privacy_levels=CANVAS_PRIVACY_LEVELS,
    )


def launch_as_url(platform, course_id: str, user_id: str) -> str:
    """Where "Launch as" goes: Moodle's course page, or the course on the school's host."""
    if platform.is_canvas:
        return f"{platform.canvas_hosts.school}/courses/{course_id}?as={user_id}"
    return f"/course/view.php?id={course_id}&as={user_id}"


bp.add_app_template_global(launch_as_url)


@bp.get("/course/view.php")
def course_view():
    """A course page as one user sees it, with the chosen activity embedded like Moodle does."""
    platform = _platform()
    course, user = _course_and_member_or_404(request.args.get("id", ""), request.args.get("as", ""))
    activities = platform.store.activities(course["id"])
    chosen = request.args.get("cmid", type=int)
    activity = next((a for a in activities if a["cmid"] == chosen), None) or (
        activities[0] if activities else None
    )
    return render_template(
        "devplatform/course.html", platform=platform, course=course, user=user,
        activities=activities, activity=activity,
    )


@bp.get("/course/modedit.php")
def add_activity():
    """"Add an activity": the tool's content selection (Deep Linking) in the content frame."""
    platform = _platform()
    course, user = _course_and_member_or_404(
        request.args.get("course", ""), request.args.get("as", "")
    )
    return render_template(
        "devplatform/add_activity.html", platform=platform, course=course, user=user,
        activities=platform.store.activities(course["id"]), activity=None,
    )


@bp.get("/mod/lti/return.php")
def tool_return():
    """The launch_presentation return_url: shows the tool's msg or errormsg."""
    course = _course_or_404(request.args.get("course", ""))
    return render_template(
        "devplatform/return.html", course=course,
        msg=request.args.get("lti_msg"), errormsg=request.args.get("lti_errormsg"),
    )


@bp.get("/grade/report/index.php")
def gradebook_page():
    """The gradebook: learners × line items, current grade and when it was given."""
    platform = _platform()
    course = _course_or_404(request.args.get("id", ""))
    items = platform.gradebook(course["id"])
    current = {
        (item["id"], score["userId"]): score for item in items for score in item["scores"]
    }
    learners = [user for user in platform.users(course["id"]) if user["role"] == "Learner"]
    return render_template(
        "devplatform/gradebook.html", platform=platform, course=course, items=items,
        learners=learners, current=current,
    )


@bp.get("/grade/report/index.json")
def gradebook_json():
    """The gradebook as JSON (the same as DevPlatform.gradebook())."""
    course = _course_or_404(request.args.get("id", ""))
    return jsonify(_platform().gradebook(course["id"]))


@bp.get("/settings")
def settings_page(error: str | None = None):
    """The runtime switches, editable (with the error of a refused change, if any)."""
    return render_template(
        "devplatform/settings.html", platform=_platform(), failures=AGS_FAILURES, modes=AGS_MODES,
        profiles=PROFILES, privacy_levels=CANVAS_PRIVACY_LEVELS, error=error,
    ), 400 if error else 200


@bp.post("/settings")
def settings_update():
    """Change the switches named in the form; the others keep their values."""
    platform = _platform()
    origin = request.headers.get("Origin")
    # No session, so no CSRF token: refuse posts that another site's page made instead.
    if origin and origin != platform.base_url and origin != request.host_url.rstrip("/"):
        abort(403)
    try:
        changes = parse_switches(request.form)
    except ValueError as exc:
        return settings_page(str(exc))
    platform.settings.update(changes)
    back = request.form.get("next") if request.form.get("next") == "/" else "/settings"
    return redirect(back, code=303)


def parse_switches(form) -> dict:
    """The switch values in a submitted form; ValueError names the first bad one."""
    changes: dict = {}
    unknown = set(form) - {*BOOLEAN_SWITCHES, *CHOICE_SWITCHES, "ags_failure",
                           "ags_hang_seconds", "next"}
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    for name in BOOLEAN_SWITCHES:
        if name in form:
            # The form sends a hidden "0" before each checkbox, so the last value decides.
            changes[name] = form.getlist(name)[-1] in ("1", "true", "on")
    for name, allowed in CHOICE_SWITCHES.items():
        if name in form:
            if form[name] not in allowed:
                values = ", ".join(value or "(none)" for value in allowed)
                raise ValueError(f"{name} must be one of {values}")
            changes[name] = form[name]
    if "ags_failure" in form:
        failure = form["ags_failure"] or None
        if failure not in AGS_FAILURES:
            raise ValueError("ags_failure must be empty, 500, hang, 401_once or 422")
        changes["ags_failure"] = failure
    if "ags_hang_seconds" in form:
        try:
            seconds = float(form["ags_hang_seconds"])
        except ValueError:
            raise ValueError("ags_hang_seconds must be a number") from None
        if not 0 <= seconds <= 600:
            raise ValueError("ags_hang_seconds must be between 0 and 600")
        changes["ags_hang_seconds"] = seconds
    return changes

