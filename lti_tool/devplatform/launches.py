"""Launch ids: created by the login-initiation page, used once by auth.php."""

from __future__ import annotations

import json
import secrets

from .claims import DEEP_LINKING, default_target, launch_subject
from .store import iso_utc

#: The lti_storage_target sent with each login when Platform Storage is on.
STORAGE_TARGET = "_parent"


def start_launch(
    platform,
    user_id: str,
    *,
    course_id: str = "2",
    resource_link_id: str | None = "1",
    message_type: str = "LtiResourceLinkRequest",
) -> tuple[str, dict]:
    """Record a single-use launch id; return the tool's login URL and the form fields to post."""
    user_id, course_id = str(user_id), str(course_id)
    course, member, activity = launch_subject(
        platform.store, user_id, course_id, resource_link_id, message_type
    )
    launch_id = f"ltilaunch{activity['id'] if activity else 0}_{secrets.randbelow(10**10)}"
    hint = {"launchid": launch_id} if message_type == DEEP_LINKING else {
        "cmid": activity["cmid"], "launchid": launch_id}
    message_hint = json.dumps(hint, separators=(",", ":"))
    target = default_target(platform, message_type, activity)
    with platform.store.write() as conn:
        conn.execute(
            "INSERT INTO launches (id, user_id, course_id, activity_id, message_type,"
            " message_hint, target_link_uri, created_dt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (launch_id, member["id"], course["id"], activity["id"] if activity else None,
             message_type, message_hint, target, iso_utc()),
        )
    fields = {
        "iss": platform.issuer,
        "target_link_uri": target,
        "login_hint": member["id"],
        "lti_message_hint": message_hint,
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
    }
    if platform.settings.get("platform_storage"):
        # Canvas names the frame that answers Platform Storage messages; here it is the course
        # page around the content frame (platform_storage.js).
        fields["lti_storage_target"] = STORAGE_TARGET
    return platform.tool.login_url, fields


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
