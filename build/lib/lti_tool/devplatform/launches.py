"""Launch ids: created by the login-initiation page, used once by the auth endpoint.

Moodle's lti_message_hint is JSON naming the launch id; Canvas's is a JWT the platform
signs, which the tool must echo unchanged.
"""

from __future__ import annotations

import json
import secrets
import time

import jwt

from .canvas import MESSAGE_HINT_LIFETIME_SECONDS, STORAGE_FRAME, opaque_id
from .claims import DEEP_LINKING, default_target, launch_subject
from .store import iso_utc

#: The lti_storage_target sent with each Moodle-profile login when Platform Storage is on.
STORAGE_TARGET = "_parent"


class BadMessageHint(Exception):
    """An lti_message_hint this platform did not issue, or one no longer valid."""


def start_launch(
    platform,
    user_id: str,
    *,
    course_id: str = "2",
    resource_link_id: str | None = "1",
    message_type: str = "LtiResourceLinkRequest",
    placement: str | None = None,
) -> tuple[str, dict]:
    """Record a single-use launch id; return the tool's login URL and the form fields to post."""
    user_id, course_id = str(user_id), str(course_id)
    canvas = platform.is_canvas
    course, member, activity = launch_subject(
        platform.store, user_id, course_id, resource_link_id, message_type, canvas=canvas
    )
    if canvas and placement is None:
        placement = ("assignment_selection" if message_type == DEEP_LINKING
                     else "assignment" if activity else "course_navigation")
    launch_id = f"ltilaunch{activity['id'] if activity else 0}_{secrets.randbelow(10**10)}"
    if canvas:
        message_hint = _canvas_hint(platform, launch_id, course_id)
    else:
        hint = {"launchid": launch_id} if message_type == DEEP_LINKING else {
            "cmid": activity["cmid"], "launchid": launch_id}
        message_hint = json.dumps(hint, separators=(",", ":"))
    target = default_target(platform, message_type, activity)
    with platform.store.write() as conn:
        conn.execute(
            "INSERT INTO launches (id, user_id, course_id, activity_id, message_type,"
            " message_hint, placement, target_link_uri, created_dt)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (launch_id, member["id"], course["id"], activity["id"] if activity else None,
             message_type, message_hint, placement, target, iso_utc()),
        )
    fields = {
        "iss": platform.issuer,
        "target_link_uri": target,
        "login_hint": opaque_id("user", member["id"]) if canvas else member["id"],
        "lti_message_hint": message_hint,
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
    }
    if canvas:
        # Canvas's extra login parameters (doc/api/lti_dev_key_config.md), and Platform
        # Storage through its forwarding frame, always offered.
        fields.update(deployment_id=platform.deployment_id, canvas_region="not_configured",
                      canvas_environment="prod", lti_storage_target=STORAGE_FRAME)
    elif platform.settings.get("platform_storage"):
        # Canvas names the frame that answers Platform Storage messages; here it is the course
        # page around the content frame (platform_storage.js).
        fields["lti_storage_target"] = STORAGE_TARGET
    return platform.tool.login_url, fields


def _canvas_hint(platform, launch_id: str, course_id: str) -> str:
    now = int(time.time())
    return platform.sign_jwt({
        "verifier": launch_id, "canvas_domain": platform.canvas_hosts.school.split("://")[1],
        "context_type": "Course", "context_id": course_id, "canvas_locale": "en",
        "include_storage_target": True, "exp": now + MESSAGE_HINT_LIFETIME_SECONDS,
    })


def launch_id_from_hint(platform, hint: str) -> str:
    """The launch id an lti_message_hint names; BadMessageHint when it names none."""
    if platform.is_canvas:
        try:
            claims = jwt.decode(hint, platform.key.public_key, algorithms=["RS256"],
                                options={"require": ["exp", "verifier"]})
        except jwt.PyJWTError as exc:
            raise BadMessageHint(f"lti_message_hint is not a valid Canvas hint: {exc}") from exc
        return str(claims["verifier"])
    try:
        return str(json.loads(hint)["launchid"])
    except (ValueError, TypeError, KeyError):
        raise BadMessageHint("No launch id in lti_message_hint.") from None


def use_launch(platform, launch_id: str) -> dict | None:
    """Mark a launch id used and return it; None when unknown or already used."""
    with platform.store.write() as conn:
        used = conn.execute(
            "UPDATE launches SET used_dt = ? WHERE id = ? AND used_dt IS NULL",
            (iso_utc(), launch_id),
        )
        if used.rowcount != 1:
            return None
        row = conn.execute("SELECT * FROM launches WHERE id = ?", (launch_id,)).fetchone()
    return dict(row)
