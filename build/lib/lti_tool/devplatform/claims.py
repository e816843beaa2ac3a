"""The id_token claims a launch carries, shaped like Moodle 4.5's (moodle-4.5-observed.json)."""

from __future__ import annotations

import hashlib
import secrets
import time
from urllib.parse import urlencode

from .gradebook import line_items
from .scopes import ags_scopes
from .store import Store, iso_utc

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
#: Moodle sends Instructor and Learner; the others come only from the console's role choice.
ROLE_URIS = {
    "Instructor": _MEMBERSHIP + "#Instructor",
    "Learner": _MEMBERSHIP + "#Learner",
    "Mentor": _MEMBERSHIP + "#Mentor",
    "TeachingAssistant": _MEMBERSHIP + "/Instructor#TeachingAssistant",
    "ContentDeveloper": _MEMBERSHIP + "#ContentDeveloper",
}
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
#: Moodle 4.5's id_token lifetime.
ID_TOKEN_LIFETIME_SECONDS = 60
MOODLE_VERSION = "2024100706"


class LaunchRefused(Exception):
    """This user cannot make this launch (unknown course, not enrolled, no such activity...)."""


def launch_subject(
    store: Store, user_id: str, course_id: str, resource_link_id: str | None, message_type: str,
    *, canvas: bool = False,
) -> tuple[dict, dict, dict | None]:
    """Check who launches what; return (course, member, activity or None for deep linking).

    Canvas also has observers, and launches from the course navigation, which name no
    activity (resource_link_id None).
    """
    course = store.course(course_id)
    if course is None:
        raise LaunchRefused(f"there is no course {course_id}")
    member = store.member(course_id, user_id, observers=canvas)
    if member is None:
        raise LaunchRefused(f"user {user_id} is not enrolled in course {course_id}")
    if message_type == DEEP_LINKING:
        # Only editing teachers may add activities in Moodle (and assignments in Canvas).
        if member["role"] != "Instructor":
            raise LaunchRefused("only an instructor can add an activity with Deep Linking")
        return course, member, None
    if message_type != RESOURCE_LINK:
        raise LaunchRefused(f"unsupported message type {message_type!r}")
    if canvas and resource_link_id is None:
        return course, member, None
    activity = store.activity(resource_link_id) if resource_link_id is not None else None
    if activity is None or activity["course_id"] != course["id"]:
        raise LaunchRefused(f"course {course_id} has no activity {resource_link_id}")
    return course, member, activity


def default_target(platform, message_type: str, activity: dict | None) -> str:
    """Where the launch goes: the activity's own URL, or the tool's launch or deep-link URL."""
    if message_type == DEEP_LINKING:
        return platform.tool.deep_link_url
    return (activity or {}).get("url") or platform.tool.target_link_uri


def build_launch_claims(
    platform,
    user_id: str,
    *,
    course_id: str = "2",
    resource_link_id: str | None = "1",
    message_type: str = RESOURCE_LINK,
    nonce: str,
    target_link_uri: str | None = None,
) -> dict:
    """The id_token claims auth.php issues for this user, course and activity."""
    user_id, course_id = str(user_id), str(course_id)
    store, settings = platform.store, platform.settings
    course, member, activity = launch_subject(
        store, user_id, course_id, resource_link_id, message_type
    )
    issued = int(time.time())
    target = target_link_uri or default_target(platform, message_type, activity)
    claims = {
        "iss": platform.issuer,
        "aud": platform.client_id,
        "sub": member["id"],
        "iat": issued,
        "exp": issued + ID_TOKEN_LIFETIME_SECONDS,
        "nonce": nonce,
        LTI + "version": "1.3.0",
        LTI + "message_type": message_type,
        LTI + "deployment_id": platform.deployment_id,
        LTI + "target_link_uri": target,
        LTI + "roles": [ROLE_URIS[settings.get("launch_role") or member["role"]]],
        LTI + "context": {
            "id": course["id"],
            "label": course["label"],
            "title": course["title"],
            "type": ["CourseSection"],
        },
        LTI + "launch_presentation": {
            "document_target": "iframe",
            "locale": settings.get("launch_locale") or "en",
            "return_url": platform.url(
                "/mod/lti/return.php?"
                + urlencode({
                    "course": course["id"],
                    "launch_container": 3,
                    "instanceid": activity["id"] if activity else "",
                    "sesskey": secrets.token_urlsafe(8),
                })
            ),
        },
        LTI + "tool_platform": {
            "name": "devplatform",
            "description": "Design Mindset Detector development platform (a fake Moodle 4.5)",
            # A stable id per site, like Moodle's; md5 is fine for a name, not for security.
            "guid": hashlib.md5(platform.issuer.encode()).hexdigest(),
            "product_family_code": "moodle",
            "version": MOODLE_VERSION,
        },
        LTI + "lis": {"course_section_sourcedid": "", "person_sourcedid": ""},
        LTI + "ext": {"lms": "moodle-2"},
    }
    anonymous = settings.get("launch_anonymous", False)
    if settings.get("share_name", True) and not anonymous:
        claims.update(
            name=member["name"], given_name=member["given_name"], family_name=member["family_name"]
        )
        claims[LTI + "ext"]["user_username"] = member["username"]
    if settings.get("share_email", True) and not anonymous:
        claims["email"] = member["email"]
    custom = dict(activity["custom"]) if activity else {}
    if settings.get("nrps_enabled", True):
        memberships_url = platform.memberships_url(course["id"])
        claims[NRPS_CLAIM] = {
            "context_memberships_url": memberships_url,
            "service_versions": ["1.0", "2.0"],
        }
        custom["context_memberships_url"] = memberships_url
    if custom:
        claims[LTI + "custom"] = custom
    scopes = ags_scopes(settings)
    if scopes:
        claims[AGS_CLAIM] = _ags_claim(platform, course["id"], activity, scopes)
    if activity is not None:
        claims[LTI + "resource_link"] = {
            "id": activity["resource_link_id"],
            "title": activity["title"],
            "description": activity["description"],
        }
    if message_type == DEEP_LINKING:
        claims[DL_CLAIM] = _deep_linking_settings(platform, course["id"], member["id"])
    return claims


def _ags_claim(platform, course_id: str, activity: dict | None, scopes: list[str]) -> dict:
    claim = {"scope": scopes, "lineitems": platform.lineitems_url(course_id)}
    if activity is not None:
        items = line_items(platform.store, course_id, resource_link_id=activity["id"])
        # Moodle names the line item only when the activity has exactly one.
        if len(items) == 1:
            claim["lineitem"] = platform.lineitem_url(course_id, items[0]["id"])
    return claim


def open_deep_link_request(platform, course_id: str, user_id: str) -> str:
    """Record a Deep Linking request; its opaque `data`, which the response must echo once."""
    data = "dl_" + secrets.token_urlsafe(18)
    with platform.store.write() as conn:
        conn.execute(
            "INSERT INTO deep_link_requests (data, course_id, user_id, created_dt)"
            " VALUES (?, ?, ?, ?)",
            (data, course_id, user_id, iso_utc()),
        )
    return data


def _deep_linking_settings(platform, course_id: str, user_id: str) -> dict:
    data = open_deep_link_request(platform, course_id, user_id)
    return {
        "deep_link_return_url": platform.url(f"/mod/lti/contentitem_return.php?course={course_id}"),
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": False,
        "auto_create": True,
        "title": "Design Mindset questionnaire",
        "data": data,
    }
