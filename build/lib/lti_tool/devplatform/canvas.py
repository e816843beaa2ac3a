"""The Canvas profile's facts: hosts, identifiers, URLs and the id_token Canvas issues.

Each behaviour here is listed with its source in docs/canvas-profile.md. In short, Canvas
cloud signs every launch as https://canvas.instructure.com while its pages come from the
school's own host (here `school.localhost`) and its OIDC endpoints, keys and tokens from a
third one (`sso.canvaslms.com`, here `sso.localhost`). People and courses are opaque ids:
`sub` is the user's UUID (lti_id), the context id a 40-hex opaque identifier.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from urllib.parse import urlsplit

from .claims import open_deep_link_request
from .gradebook import line_items
from .scopes import ags_scopes

CANVAS_ISSUER = "https://canvas.instructure.com"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
PLACEMENT_CLAIM = "https://www.instructure.com/placement"
ROLE_SCOPE_MENTOR = LTI + "role_scope_mentor"
#: The named frame, served from the OIDC host, that relays Platform Storage messages.
STORAGE_FRAME = "post_message_forwarding"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
#: Placements and the message each sends (the tool's canvas.json asks for these three).
PLACEMENTS = {
    "course_navigation": RESOURCE_LINK,
    "assignment": RESOURCE_LINK,
    "assignment_selection": DEEP_LINKING,
    "link_selection": DEEP_LINKING,
}
#: Canvas's id_token lifetime (lib/lti/messages/jwt_message.rb: 1.hour.from_now).
ID_TOKEN_LIFETIME_SECONDS = 3600
#: lti_message_hint is a JWT Canvas signs; it is good for a few minutes.
MESSAGE_HINT_LIFETIME_SECONDS = 300

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
_USER = _LIS + "system/person#User"
#: $com.instructure.User.allRoles for each enrolment type: institution, context, system.
ROLE_URIS = {
    "Learner": [_LIS + "institution/person#Student", _LIS + "membership#Learner", _USER],
    "Instructor": [_LIS + "institution/person#Instructor", _LIS + "membership#Instructor", _USER],
    # An observer (a parent): LIS Mentor, with role_scope_mentor naming whom they observe.
    "Mentor": [_LIS + "membership#Mentor", _USER],
    "TeachingAssistant": [_LIS + "membership/Instructor#TeachingAssistant", _USER],
    "ContentDeveloper": [_LIS + "membership#ContentDeveloper", _USER],
}
#: What NRPS says for each enrolment type (full URIs, unlike Moodle's short names).
MEMBER_ROLES = {role: [uri for uri in uris if "/membership" in uri]
                for role, uris in ROLE_URIS.items()}
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


class CanvasHosts:
    """The school's host and Canvas's OIDC host, on the platform's own port."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        port = f":{parts.port}" if parts.port else ""
        self.school = f"{parts.scheme}://school.localhost{port}"
        self.sso = f"{parts.scheme}://sso.localhost{port}"

    def kind(self, host_url: str) -> str | None:
        """"school", "sso" or None for a request's host URL."""
        origin = host_url.rstrip("/")
        return {self.school: "school", self.sso: "sso"}.get(origin)


def lti_id(user_id: str) -> str:
    """A user's `sub`: a UUID that stays the same for the user on every launch."""
    return str(uuid.uuid5(_NAMESPACE, f"canvas-user-{user_id}"))


def opaque_id(kind: str, value: str) -> str:
    """Lti::Asset.opaque_identifier_for: 40 hex characters that name a course or user."""
    # sha1 only makes a name here, as Canvas's own opaque identifiers do; nothing secret.
    return hashlib.sha1(f"dev-school-{kind}-{value}".encode()).hexdigest()  # noqa: S324


def resource_link_uuid(activity_id: int | str) -> str:
    """An assignment's resource link id (resource_link_uuid)."""
    return str(uuid.uuid5(_NAMESPACE, f"canvas-link-{activity_id}"))


def user_for_lti_id(members: list[dict], value: str) -> dict | None:
    """The member named by a `userId`: their lti_id, or Canvas's own numeric user id."""
    return next((m for m in members if value in (lti_id(m["id"]), m["id"])), None)


def activity_for_link(activities: list[dict], link_id: str) -> dict | None:
    """The assignment whose resource link id this is."""
    return next((a for a in activities if resource_link_uuid(a["id"]) == link_id), None)


def role_uris(role: str) -> list[str]:
    """The roles claim for an enrolment type (or the console's override)."""
    return list(ROLE_URIS[role])


def build_canvas_claims(platform, launch: dict, member: dict, course: dict,
                        activity: dict | None, *, nonce: str) -> dict:
    """The id_token claims Canvas issues for this launch (placement, person, privacy)."""
    settings = platform.settings
    hosts = platform.canvas_hosts
    issued = int(time.time())
    placement = launch["placement"]
    message_type = launch["message_type"]
    role = settings.get("launch_role") or member["role"]
    context_id = opaque_id("course", course["id"])
    claims = {
        "iss": CANVAS_ISSUER,
        "aud": platform.client_id,
        "azp": platform.client_id,
        "sub": lti_id(member["id"]),
        "iat": issued,
        "exp": issued + ID_TOKEN_LIFETIME_SECONDS,
        "nonce": nonce,
        "locale": settings.get("launch_locale") or "en",
        LTI + "version": "1.3.0",
        LTI + "message_type": message_type,
        LTI + "deployment_id": platform.deployment_id,
        LTI + "target_link_uri": launch["target_link_uri"],
        LTI + "roles": role_uris(role),
        LTI + "context": {
            "id": context_id, "label": course["label"], "title": course["title"],
            "type": [_LIS + "course#CourseOffering"],
        },
        LTI + "tool_platform": {
            "guid": opaque_id("account", "1") + ":canvas-lms", "name": "Dev School",
            "version": "cloud", "product_family_code": "canvas",
        },
        LTI + "launch_presentation": {
            "document_target": "iframe",
            "return_url": f"{hosts.school}/courses/{course['id']}/external_content/success/"
                          "external_tool_redirect",
            "locale": settings.get("launch_locale") or "en",
        },
        LTI + "lti11_legacy_user_id": opaque_id("user", member["id"]),
        LTI + "custom": dict(activity["custom"]) if activity else {},
        PLACEMENT_CLAIM: placement,
    }
    _add_person(claims, platform, member, course, role)
    if message_type == RESOURCE_LINK:
        claims[LTI + "resource_link"] = (
            {"id": resource_link_uuid(activity["id"]), "title": activity["title"],
             "description": activity["description"]}
            if activity else {"id": context_id, "title": course["title"]}
        )
    scopes = ags_scopes(settings)
    if scopes:
        claims[AGS_CLAIM] = _ags_claim(platform, course["id"], activity, scopes)
    if settings.get("nrps_enabled", True):
        claims[NRPS_CLAIM] = {"context_memberships_url": platform.memberships_url(course["id"]),
                              "service_versions": ["2.0"]}
    if message_type == DEEP_LINKING:
        claims[DL_CLAIM] = _deep_linking_settings(platform, course["id"], member["id"])
    return claims


def _add_person(claims: dict, platform, member: dict, course: dict, role: str) -> None:
    """Name, e-mail, picture and observees as the developer key's privacy level allows."""
    privacy = platform.settings.get("canvas_privacy", "name_only")
    if platform.settings.get("launch_anonymous"):
        privacy = "anonymous"
    if privacy in ("name_only", "public"):
        claims.update(name=member["name"], given_name=member["given_name"],
                      family_name=member["family_name"])
        claims[LTI + "lis"] = {"person_sourcedid": "", "course_offering_sourcedid": ""}
    if privacy in ("email_only", "public"):
        claims["email"] = member["email"]
    if privacy == "public":
        claims["picture"] = f"{platform.canvas_hosts.school}/images/messages/avatar-50.png"
        # Canvas names the observed students only to tools whose privacy level is public.
        if role == "Mentor" and member.get("observes"):
            claims[ROLE_SCOPE_MENTOR] = [lti_id(member["observes"])]


def _ags_claim(platform, course_id: str, activity: dict | None, scopes: list[str]) -> dict:
    claim = {"scope": scopes, "lineitems": platform.lineitems_url(course_id)}
    if activity is not None:
        items = line_items(platform.store, course_id, resource_link_id=activity["id"])
        # An assignment launch names the assignment's line item; course navigation has none.
        if items:
            claim["lineitem"] = platform.lineitem_url(course_id, items[0]["id"])
    return claim


def _deep_linking_settings(platform, course_id: str, user_id: str) -> dict:
    data = open_deep_link_request(platform, course_id, user_id)
    return {
        "deep_link_return_url": f"{platform.canvas_hosts.school}/courses/{course_id}"
                                "/deep_linking_response",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_media_types": "application/vnd.ims.lti.v1.ltilink",
        # An assignment takes one link. Canvas lets link selection add several module items;
        # the profile offers one there too (stricter: the tool must not send more).
        "accept_multiple": False,
        "auto_create": False,
        "data": data,
    }
