"""Names and Role Provisioning Services 2.0: the course membership container."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from .scopes import NRPS_MEMBERSHIP
from .service_http import ServiceRefused, check_accept, json_answer, paged, require_scope

bp = Blueprint("devplatform_nrps", __name__)

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ROLE_URI_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def member_json(user: dict, *, share_name: bool, share_email: bool) -> dict:
    """One member as Moodle lists it: short role names, personal data only when shared."""
    member = {
        "status": "Active",
        "user_id": user["id"],
        "roles": [user["role"]],
        "lis_person_sourcedid": "",
    }
    if share_name:
        member.update(
            name=user["name"],
            given_name=user["given_name"],
            family_name=user["family_name"],
            ext_user_username=user["username"],
        )
    if share_email:
        member["email"] = user["email"]
    return member


@bp.get("/mod/lti/services.php/CourseSection/<course_id>/bindings/<type_id>/memberships")
def memberships(course_id: str, type_id: str):
    """GET the membership container; ?role filters, ?limit pages with Link rel="next"."""
    platform = current_app.extensions["devplatform"]
    try:
        if not platform.settings.get("nrps_enabled", True) or type_id != platform.deployment_id:
            raise ServiceRefused(404, {"error": "NRPS is not enabled for this tool"})
        course = platform.store.course(course_id)
        if course is None:
            raise ServiceRefused(404, {"error": f"no course {course_id}"})
        check_accept(MEMBERSHIP_TYPE)
        require_scope(platform, NRPS_MEMBERSHIP)
        users = platform.store.members(course_id)
        rlid = request.args.get("rlid")
        if rlid is not None:
            activity = platform.store.activity(rlid)
            if activity is None or activity["course_id"] != course["id"]:
                raise ServiceRefused(400, {"error": f"rlid {rlid!r} is not a link in this course"})
        role = request.args.get("role")
        if role:
            # Both the short name and the full URI are accepted, as Moodle does.
            short = role.removeprefix(ROLE_URI_PREFIX)
            users = [user for user in users if user["role"] == short]
        page, headers = paged(users, platform.url(request.path))
    except ServiceRefused as refused:
        return refused.response()
    body = {
        "id": platform.memberships_url(course_id),
        "context": {"id": course["id"], "label": course["label"], "title": course["title"]},
        "members": [
            member_json(
                user,
                share_name=platform.settings.get("share_name", True),
                share_email=platform.settings.get("share_email", True),
            )
            for user in page
        ],
    }
    return json_answer(body, MEMBERSHIP_TYPE, headers=headers)
