"""The Canvas profile's LTI Advantage services on the school's host: AGS and NRPS.

Canvas's rules (app/controllers/lti/ims/*, see docs/canvas-profile.md): a score for someone
who is not a student answers 422, as does a scoreGiven without scoreMaximum; a timestamp
earlier than the stored result's answers 400 (an equal one is accepted); only FullyGraded and
PendingManual keep scoreGiven, other gradingProgress values clear the grade; a score answers
200 with {"resultUrl"}; the submission extension's submitted_at may not lie in the future.
Line items belong to assignments: one created with a resourceLinkId must name an assignment's
link that already has one (404 otherwise), and an assignment's own item cannot be deleted
(401). NRPS pages 50 members at most, with page/per_page in Link rel="next".
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request

from . import gradebook
from .ags import CONTAINER_TYPE, LINEITEM_TYPE, RESULTS_TYPE, SCORE_TYPE, _simulated_failure
from .canvas import (
    MEMBER_ROLES,
    activity_for_link,
    lti_id,
    opaque_id,
    resource_link_uuid,
    user_for_lti_id,
)
from .nrps import MEMBERSHIP_TYPE
from .scopes import (
    AGS_LINEITEM,
    AGS_LINEITEM_READONLY,
    AGS_RESULT_READONLY,
    AGS_SCORE,
    NRPS_MEMBERSHIP,
)
from .service_http import (
    ServiceRefused,
    check_accept,
    check_content_type,
    json_answer,
    json_body,
    require_scope,
)
from .store import iso_utc

bp = Blueprint("devplatform_canvas_services", __name__)


@bp.after_request
def _note_score_post(response: Response) -> Response:
    """Log every score POST with the status answered (DevPlatform.score_posts)."""
    if request.endpoint == "devplatform_canvas_services.post_score" and request.view_args:
        gradebook.note_score_post(
            current_app.extensions["devplatform"].store, request.view_args["course_id"],
            request.view_args["item_id"], request.get_json(silent=True), response.status_code,
        )
    return response

BASE = "/api/lti/courses/<course_id>"
SUBMISSION = "https://canvas.instructure.com/lti/submission"
#: gradingProgress values whose scoreGiven Canvas keeps (Lti::Result::ACCEPT_GIVEN_SCORE_TYPES).
ACCEPT_GIVEN_SCORE = ("FullyGraded", "PendingManual")
REQUIRED_SCORE_FIELDS = ("userId", "activityProgress", "gradingProgress", "timestamp")
#: Canvas's MembershipsProvider::MAX_PAGE_SIZE (also the default page size).
MAX_PAGE_SIZE = 50
#: submitted_at may run this far ahead of Canvas's clock (ags_submitted_at_future_buffer).
SUBMITTED_AT_FUTURE_BUFFER = timedelta(minutes=1)


def canvas_service(view):
    """Answer only in the Canvas profile and on the school's host; map domain errors."""

    @wraps(view)
    def wrapper(course_id: str, **kwargs):
        platform = current_app.extensions["devplatform"]
        try:
            if not platform.is_canvas or platform.canvas_hosts.kind(request.host_url) != "school":
                raise ServiceRefused(404, {"errors": [{"message": "The specified resource does "
                                                                  "not exist."}]})
            _simulated_failure(platform)
            if platform.store.course(course_id) is None:
                raise ServiceRefused(404, {"errors": [{"message": f"no course {course_id}"}]})
            return view(platform, course_id, **kwargs)
        except ServiceRefused as refused:
            return refused.response()
        except gradebook.LineItemNotFound as exc:
            return _error(404, str(exc))
        except gradebook.GradebookError as exc:
            return _error(400, str(exc))

    return wrapper


def _error(status: int, message: str) -> Response:
    """Canvas's error body: {"errors": [{"message": ...}]}."""
    return ServiceRefused(status, {"errors": [{"message": message}]}).response()


def _lineitem_json(platform, course_id: str, item: dict) -> dict:
    body = {
        "id": platform.lineitem_url(course_id, item["id"]),
        "scoreMaximum": item["scoreMaximum"],
        "label": item["label"],
        "resourceId": item["resourceId"] or None,
        "tag": item["tag"] or None,
        "https://canvas.instructure.com/lti/submission_type": {"type": "external_tool"},
    }
    if item["resourceLinkId"]:
        body["resourceLinkId"] = resource_link_uuid(item["resourceLinkId"])
    return {key: value for key, value in body.items() if value is not None}


@bp.get(f"{BASE}/line_items")
@canvas_service
def list_line_items(platform, course_id: str):
    """GET line_items, filtered by resource_link_id (a link UUID), resource_id and tag."""
    check_accept(CONTAINER_TYPE)
    require_scope(platform, AGS_LINEITEM, AGS_LINEITEM_READONLY)
    link = request.args.get("resource_link_id")
    activity = activity_for_link(platform.store.activities(course_id), link) if link else None
    if link and activity is None:
        items = []
    else:
        items = gradebook.line_items(
            platform.store, course_id,
            resource_link_id=activity["id"] if activity else None,
            resource_id=request.args.get("resource_id"), tag=request.args.get("tag"),
        )
    page, headers = _paged(items, platform.lineitems_url(course_id))
    return json_answer([_lineitem_json(platform, course_id, item) for item in page],
                       CONTAINER_TYPE, headers=headers)


@bp.post(f"{BASE}/line_items")
@canvas_service
def create_line_item(platform, course_id: str):
    """POST line_items: a new assignment, or one more item on an assignment's link."""
    check_content_type(LINEITEM_TYPE)
    require_scope(platform, AGS_LINEITEM)
    body = json_body()
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    link = body.get("resourceLinkId")
    activity_id = None
    if link:
        activity = activity_for_link(platform.store.activities(course_id), str(link))
        if activity is None:
            return _error(404, f"resourceLinkId {link!r} is not a link of this tool")
        if not gradebook.line_items(platform.store, course_id, resource_link_id=activity["id"]):
            # Canvas: 412 when the link's assignment has no active line item.
            return Response(status=412)
        activity_id = activity["id"]
    fields = gradebook.line_item_fields(body)
    with platform.store.write() as conn:
        item_id = gradebook.insert_line_item(conn, course_id, resource_link_id=activity_id,
                                             **fields)
    item = gradebook.line_item(platform.store, course_id, item_id)
    return json_answer(_lineitem_json(platform, course_id, item), LINEITEM_TYPE, status=201)


@bp.get(f"{BASE}/line_items/<item_id>")
@canvas_service
def show_line_item(platform, course_id: str, item_id: str):
    """GET one line item."""
    check_accept(LINEITEM_TYPE)
    require_scope(platform, AGS_LINEITEM, AGS_LINEITEM_READONLY)
    item = gradebook.line_item(platform.store, course_id, item_id)
    return json_answer(_lineitem_json(platform, course_id, item), LINEITEM_TYPE)


@bp.delete(f"{BASE}/line_items/<item_id>")
@canvas_service
def delete_line_item(platform, course_id: str, item_id: str):
    """DELETE a line item; an assignment's own (first) item is coupled to it: 401."""
    require_scope(platform, AGS_LINEITEM)
    item = gradebook.line_item(platform.store, course_id, item_id)
    if item["resourceLinkId"]:
        first = gradebook.line_items(platform.store, course_id,
                                     resource_link_id=item["resourceLinkId"])[0]
        if first["id"] == item["id"]:
            return Response(status=401)
    gradebook.delete_line_item(platform.store, course_id, item_id)
    return Response(status=204)


@bp.post(f"{BASE}/line_items/<item_id>/scores")
@canvas_service
def post_score(platform, course_id: str, item_id: str):
    """POST a score with Canvas's rules; 200 with the result's URL."""
    check_content_type(SCORE_TYPE)
    require_scope(platform, AGS_SCORE)
    body = json_body()
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    item = gradebook.line_item(platform.store, course_id, item_id)
    missing = [name for name in REQUIRED_SCORE_FIELDS if body.get(name) in (None, "")]
    if missing:
        return _error(400, f"param is missing or the value is empty: {missing[0]}")
    members = platform.store.members(course_id, observers=True)
    member = user_for_lti_id(members, str(body["userId"]))
    if member is None or member["role"] != "Learner":
        return _error(422, "User not found in course or is not a student")
    try:
        moment = gradebook.parse_timestamp(body["timestamp"])
    except gradebook.InvalidScore:
        return _error(400, f"Provided timestamp of {body['timestamp']} not a valid timestamp")
    previous = _last_timestamp(platform, item["id"], member["id"])
    if previous is not None and previous > moment:
        return _error(400, f"Provided timestamp of {body['timestamp']} before last updated "
                           f"timestamp of {previous.isoformat(timespec='milliseconds')}")
    keeps_score = (body["gradingProgress"] in ACCEPT_GIVEN_SCORE
                   and body.get("scoreGiven") is not None)
    if keeps_score:
        maximum = body.get("scoreMaximum")
        if maximum is None:
            return _error(422, "ScoreMaximum not supplied when ScoreGiven present.")
        if not isinstance(maximum, int | float) or maximum < 0:
            return _error(422, "ScoreMaximum must be greater than or equal to 0")
    problem = _submission_problem(body.get(SUBMISSION))
    if problem:
        return _error(400, problem)
    _record(platform, item, member["id"], body, moment, keeps_score)
    result_url = f"{platform.lineitem_url(course_id, item['id'])}/results/{lti_id(member['id'])}"
    return json_answer({"resultUrl": result_url}, SCORE_TYPE)


def _last_timestamp(platform, item_id: int, user_id: str) -> datetime | None:
    with platform.store.read() as conn:
        row = conn.execute("SELECT timestamp FROM scores WHERE line_item_id = ? AND user_id = ?"
                           " ORDER BY id DESC LIMIT 1", (item_id, user_id)).fetchone()
    return gradebook.parse_timestamp(row["timestamp"]) if row else None


def _submission_problem(extension: object) -> str | None:
    """Canvas's checks of the submission extension's submitted_at."""
    if not isinstance(extension, dict) or not extension.get("submitted_at"):
        return None
    value = extension["submitted_at"]
    try:
        submitted = gradebook.parse_timestamp(value, "submitted_at")
    except gradebook.InvalidScore:
        return f"Provided submitted_at timestamp of {value} not a valid timestamp"
    if submitted > datetime.now(UTC) + SUBMITTED_AT_FUTURE_BUFFER:
        return f"Provided submitted_at timestamp of {value} in the future"
    return None


def _record(platform, item: dict, user_id: str, body: dict, moment: datetime,
            keeps_score: bool) -> None:
    """Store the score; the grade is the scaled scoreGiven, or none when Canvas ignores it."""
    given = body.get("scoreGiven") if keeps_score else None
    maximum = body.get("scoreMaximum") if keeps_score else None
    extension = body.get(SUBMISSION)
    with platform.store.write() as conn:
        cursor = conn.execute(
            "INSERT INTO scores (line_item_id, user_id, score_given, score_maximum, comment,"
            " timestamp, timestamp_s, submission_json, activity_progress, grading_progress,"
            " received_dt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item["id"], user_id, given, maximum, body.get("comment"), body["timestamp"],
             math.floor(moment.timestamp()),
             json.dumps(extension) if isinstance(extension, dict) else None,
             body["activityProgress"], body["gradingProgress"], iso_utc()),
        )
        conn.execute(
            "INSERT INTO grades (line_item_id, user_id, last_timestamp_s, score_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (line_item_id, user_id) DO UPDATE SET"
            " last_timestamp_s = excluded.last_timestamp_s, score_id = excluded.score_id",
            (item["id"], user_id, math.floor(moment.timestamp()), cursor.lastrowid),
        )


@bp.get(f"{BASE}/line_items/<item_id>/results")
@canvas_service
def results(platform, course_id: str, item_id: str):
    """GET the line item's results (one per student), optionally for one user_id."""
    check_accept(RESULTS_TYPE)
    require_scope(platform, AGS_RESULT_READONLY)
    item = gradebook.line_item(platform.store, course_id, item_id)
    item_url = platform.lineitem_url(course_id, item["id"])
    wanted = request.args.get("user_id")
    body = []
    for result in gradebook.results(platform.store, course_id, item_id):
        user = lti_id(result["userId"])
        if wanted and wanted not in (user, result["userId"]):
            continue
        entry = {"id": f"{item_url}/results/{user}", "scoreOf": item_url, "userId": user,
                 "resultMaximum": item["scoreMaximum"]}
        if result["grade"] is not None:
            entry["resultScore"] = result["grade"]
        if result["comment"]:
            entry["comment"] = result["comment"]
        body.append(entry)
    page, headers = _paged(body, f"{item_url}/results")
    return json_answer(page, RESULTS_TYPE, headers=headers)


@bp.get(f"{BASE}/names_and_roles")
@canvas_service
def names_and_roles(platform, course_id: str):
    """GET the course's members, 50 a page at most, with Canvas's Link header."""
    if not platform.settings.get("nrps_enabled", True):
        raise ServiceRefused(404, {"errors": [{"message": "NRPS is not enabled"}]})
    check_accept(MEMBERSHIP_TYPE)
    require_scope(platform, NRPS_MEMBERSHIP)
    course = platform.store.course(course_id)
    members = platform.store.members(course_id, observers=True)
    rlid = request.args.get("rlid")
    if rlid and rlid != opaque_id("course", course_id):
        if activity_for_link(platform.store.activities(course_id), rlid) is None:
            return _error(400, "Tool does not have access to rlid or rlid does not exist")
    role = request.args.get("role")
    if role:
        short = role.rsplit("#", 1)[-1]
        members = [m for m in members if short in (m["role"], *[
            uri.rsplit("#", 1)[-1] for uri in MEMBER_ROLES[m["role"]]])]
    page, headers = _paged(members, platform.memberships_url(course_id))
    body = {
        "id": request.url,
        "context": {"id": opaque_id("course", course_id), "label": course["label"],
                    "title": course["title"]},
        "members": [_member_json(platform, member) for member in page],
    }
    return json_answer(body, MEMBERSHIP_TYPE, headers=headers)


def _member_json(platform, member: dict) -> dict:
    """One member as Canvas lists it: UUID user_id, full role URIs, privacy-level fields."""
    privacy = platform.settings.get("canvas_privacy", "name_only")
    entry = {"status": "Active", "user_id": lti_id(member["id"]),
             "lti11_legacy_user_id": opaque_id("user", member["id"]),
             "roles": MEMBER_ROLES[member["role"]]}
    if privacy in ("name_only", "public"):
        entry.update(name=member["name"], given_name=member["given_name"],
                     family_name=member["family_name"], lis_person_sourcedid="")
    if privacy in ("email_only", "public"):
        entry["email"] = member["email"]
    return entry


def _paged(items: list, base_url: str) -> tuple[list, dict]:
    """Canvas's pagination: ?page (1-based) and ?per_page, `limit` as per_page, at most 50
    a page; Link names current, next, first and last."""
    try:
        size = int(request.args.get("limit") or request.args.get("per_page") or MAX_PAGE_SIZE)
        number = int(request.args.get("page") or 1)
    except ValueError:
        raise ServiceRefused(400, {"errors": [{"message": "page and per_page must be integers"}]}
                             ) from None
    size = max(1, min(size, MAX_PAGE_SIZE))
    number = max(1, number)
    last = max(1, math.ceil(len(items) / size))
    keep = [(key, value) for key, value in request.args.items(multi=True)
            if key not in ("page", "per_page", "limit")]

    def link(page_number: int, rel: str) -> str:
        query = urlencode([*keep, ("page", page_number), ("per_page", size)])
        return f'<{base_url}?{query}>; rel="{rel}"'

    links = [link(number, "current")]
    if number < last:
        links.append(link(number + 1, "next"))
    links += [link(1, "first"), link(last, "last")]
    return items[(number - 1) * size:number * size], {"Link": ",".join(links)}
