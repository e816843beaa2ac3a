"""Deep Linking 2.0 return: verify the tool's response and create the activities it selected."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from .claims import LTI
from .config import origin_of
from .gradebook import InvalidLineItem, insert_line_item, line_item_fields
from .store import insert_activity, iso_utc
from .toolkeys import ToolJWTError

bp = Blueprint("devplatform_deeplinking", __name__)

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESPONSE_TYPE = "LtiDeepLinkingResponse"


class DeepLinkRefused(Exception):
    """A Deep Linking response the platform will not accept; the message says why."""


def verified_response(platform, token: str) -> dict:
    """The claims of the tool's LtiDeepLinkingResponse JWT, every rule checked."""
    try:
        claims = platform.tool_keys.verify(
            token, audience=platform.issuer, required=("iss", "aud", "exp", "iat", "nonce")
        )
    except ToolJWTError as exc:
        raise DeepLinkRefused(str(exc)) from exc
    expected = {
        "iss": platform.client_id,
        LTI + "deployment_id": platform.deployment_id,
        LTI + "message_type": RESPONSE_TYPE,
        LTI + "version": "1.3.0",
    }
    for claim, value in expected.items():
        if claims.get(claim) != value:
            raise DeepLinkRefused(f"{claim} must be {value!r}, got {claims.get(claim)!r}")
    return claims


def resource_links(platform, claims: dict) -> list[dict]:
    """The content items as activities to create; refuses anything the request did not offer."""
    items = claims.get(DL + "content_items", [])
    if not isinstance(items, list):
        raise DeepLinkRefused("content_items must be a list")
    if len(items) > 1:
        raise DeepLinkRefused("the request said accept_multiple: false, yet several items came")
    links = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
            raise DeepLinkRefused("only ltiResourceLink items were accepted")
        url = item.get("url")
        if url is not None and origin_of(url) != platform.tool.origin:
            raise DeepLinkRefused(f"url {url!r} is not on the tool's origin {platform.tool.origin}")
        custom = item.get("custom") or {}
        if not isinstance(custom, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in custom.items()
        ):
            raise DeepLinkRefused("custom must map strings to strings")
        title = item.get("title") or "Untitled activity"
        links.append({
            "title": title,
            "text": item.get("text") or "",
            "url": url,
            "custom": custom,
            "line_item": _line_item(item.get("lineItem"), title),
        })
    return links


def _line_item(value: object, title: str) -> dict | None:
    if value is None:
        return None
    try:
        return line_item_fields(value, default_label=title)
    except InvalidLineItem as exc:
        raise DeepLinkRefused(f"lineItem: {exc}") from exc


def create_activities(platform, course_id: str, data: object, links: list[dict]) -> list[dict]:
    """Use the request's data (once) and create the activities and line items in one transaction."""
    created = []
    with platform.store.write() as conn:
        used = conn.execute(
            "UPDATE deep_link_requests SET used_dt = ? WHERE data = ? AND course_id = ?"
            " AND used_dt IS NULL",
            (iso_utc(), data if isinstance(data, str) else "", str(course_id)),
        )
        if used.rowcount != 1:
            raise DeepLinkRefused(
                "data does not echo an open Deep Linking request of this course "
                "(unknown, altered, for another course or already used)"
            )
        for link in links:
            activity_id, cmid = insert_activity(
                conn, str(course_id), link["title"], description=link["text"], url=link["url"],
                custom=link["custom"],
            )
            if link["line_item"]:
                insert_line_item(conn, course_id, resource_link_id=activity_id,
                                 **link["line_item"])
            created.append({**link, "resource_link_id": str(activity_id), "cmid": cmid})
    return created


@bp.post("/mod/lti/contentitem_return.php")
def moodle_return():
    """POST ?course=<id> with form field JWT: the tool's Deep Linking response."""
    return contentitem_return(request.args.get("course", ""))


def contentitem_return(course_id: str):
    """Accept the tool's Deep Linking response for a course, or show why not."""
    platform = current_app.extensions["devplatform"]
    course = platform.store.course(course_id)
    token = request.form.get("JWT")
    try:
        if course is None:
            raise DeepLinkRefused("the return URL names no known course")
        if not token:
            raise DeepLinkRefused("the form has no JWT field")
        claims = verified_response(platform, token)
        links = resource_links(platform, claims)
        created = create_activities(platform, course["id"], claims.get(DL + "data"), links)
    except DeepLinkRefused as exc:
        return render_template(
            "devplatform/error.html", title="Deep Linking response refused", message=str(exc)
        ), 400
    messages = {key: claims.get(DL + key) for key in ("msg", "log", "errormsg", "errorlog")}
    return render_template(
        "devplatform/deeplink_done.html", course=course, created=created, messages=messages
    )
