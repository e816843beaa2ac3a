"""Assignment and Grade Services 2.0 endpoints under Moodle's /mod/lti/services.php paths."""

from __future__ import annotations

import time
from functools import wraps

from flask import Blueprint, Response, current_app, request

from . import gradebook
from .scopes import AGS_LINEITEM, AGS_LINEITEM_READONLY, AGS_RESULT_READONLY, AGS_SCORE
from .service_http import (
    ServiceRefused,
    check_accept,
    check_content_type,
    check_type_id,
    json_answer,
    json_body,
    paged,
    require_scope,
)
from .tokens import revoke_access_token

bp = Blueprint("devplatform_ags", __name__)


@bp.after_request
def _note_score_post(response: Response) -> Response:
    """Log every score POST with the status answered (DevPlatform.score_posts)."""
    if request.endpoint == "devplatform_ags.post_score" and request.view_args:
        gradebook.note_score_post(
            current_app.extensions["devplatform"].store, request.view_args["course_id"],
            request.view_args["item_id"], request.get_json(silent=True), response.status_code,
        )
    return response

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
BASE = "/mod/lti/services.php/<course_id>/lineitems"


def ags_endpoint(view):
    """Run the ags_failure switch, the type_id check and domain-error mapping around a view."""

    @wraps(view)
    def wrapper(course_id: str, **kwargs):
        platform = current_app.extensions["devplatform"]
        try:
            _simulated_failure(platform)
            if platform.settings.get("ags_mode") == "off":
                raise ServiceRefused(404, {"error": "AGS is off on this platform (settings)"})
            check_type_id(platform)
            if platform.store.course(course_id) is None:
                raise ServiceRefused(404, {"error": f"no course {course_id}"})
            return view(platform, course_id, **kwargs)
        except ServiceRefused as refused:
            return refused.response()
        except gradebook.LineItemNotFound as exc:
            return ServiceRefused(404, {"error": str(exc)}).response()
        except gradebook.NotGradable:
            # Moodle's exact answer for a score about a non-learner.
            return ServiceRefused(400, []).response()
        except gradebook.StaleScore as exc:
            return ServiceRefused(409, {"error": str(exc)}).response()
        except gradebook.GradebookError as exc:
            return ServiceRefused(400, {"error": str(exc)}).response()

    return wrapper


def _simulated_failure(platform) -> None:
    """Act out the failure chosen in settings["ags_failure"] (see the settings page)."""
    failure = platform.settings.get("ags_failure")
    if failure == "500":
        raise ServiceRefused(500, {"error": "simulated platform failure (ags_failure=500)"})
    if failure == "hang":
        time.sleep(float(platform.settings.get("ags_hang_seconds", 30)))
        raise ServiceRefused(500, {"error": "simulated hang (ags_failure=hang)"})
    if failure == "422":
        raise ServiceRefused(422, {"error": "simulated rejection (ags_failure=422)"})
    if failure == "401_once":
        platform.settings["ags_failure"] = None
        # A real 401 means the token is gone: retrying with the same token must fail too.
        revoke_access_token(platform.store, request.headers.get("Authorization"))
        raise ServiceRefused(401, {"error": "simulated expired token (ags_failure=401_once)"},
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def lineitem_json(platform, item: dict) -> dict:
    """A line item as AGS (and Moodle) shows it."""
    body = {
        "id": platform.lineitem_url(item["course_id"], item["id"]),
        "label": item["label"],
        "scoreMaximum": item["scoreMaximum"],
        "resourceId": item["resourceId"],
        "tag": item["tag"],
        "resourceLinkId": item["resourceLinkId"],
        "ltiLinkId": item["resourceLinkId"],
    }
    for field in ("startDateTime", "endDateTime"):
        if item.get(field):
            body[field] = item[field]
    return body


@bp.get(BASE)
@ags_endpoint
def list_lineitems(platform, course_id: str):
    """GET lineitems, filtered by resource_link_id, resource_id and tag, paged by limit/from."""
    check_accept(CONTAINER_TYPE)
    require_scope(platform, AGS_LINEITEM, AGS_LINEITEM_READONLY)
    items = gradebook.line_items(
        platform.store,
        course_id,
        resource_link_id=request.args.get("resource_link_id"),
        resource_id=request.args.get("resource_id"),
        tag=request.args.get("tag"),
    )
    page, headers = paged(items, platform.url(request.path))
    return json_answer([lineitem_json(platform, item) for item in page], CONTAINER_TYPE,
                       headers=headers)


@bp.post(BASE)
@ags_endpoint
def create_lineitem(platform, course_id: str):
    """POST lineitems: create a line item (needs the lineitem scope)."""
    check_content_type(LINEITEM_TYPE)
    require_scope(platform, AGS_LINEITEM)
    item = gradebook.create_line_item(platform.store, course_id, json_body())
    return json_answer(lineitem_json(platform, item), LINEITEM_TYPE, status=201)


@bp.get(f"{BASE}/<item_id>/lineitem")
@ags_endpoint
def get_lineitem(platform, course_id: str, item_id: str):
    """GET one line item."""
    check_accept(LINEITEM_TYPE)
    require_scope(platform, AGS_LINEITEM, AGS_LINEITEM_READONLY)
    item = gradebook.line_item(platform.store, course_id, item_id)
    return json_answer(lineitem_json(platform, item), LINEITEM_TYPE)


@bp.put(f"{BASE}/<item_id>/lineitem")
@ags_endpoint
def put_lineitem(platform, course_id: str, item_id: str):
    """PUT one line item (needs the lineitem scope)."""
    check_content_type(LINEITEM_TYPE)
    require_scope(platform, AGS_LINEITEM)
    body = json_body()
    own_url = platform.lineitem_url(course_id, gradebook.line_item(platform.store, course_id,
                                                                   item_id)["id"])
    if isinstance(body, dict) and body.get("id") not in (None, own_url):
        raise ServiceRefused(400, {"error": "the body's id is not this line item's URL"})
    item = gradebook.update_line_item(platform.store, course_id, item_id, body)
    return json_answer(lineitem_json(platform, item), LINEITEM_TYPE)


@bp.delete(f"{BASE}/<item_id>/lineitem")
@ags_endpoint
def delete_lineitem(platform, course_id: str, item_id: str):
    """DELETE one line item with its grades (needs the lineitem scope)."""
    require_scope(platform, AGS_LINEITEM)
    gradebook.delete_line_item(platform.store, course_id, item_id)
    return Response(status=204)


@bp.post(f"{BASE}/<item_id>/lineitem/scores")
@ags_endpoint
def post_score(platform, course_id: str, item_id: str):
    """POST a score: 200 with an empty body, as Moodle answers."""
    check_content_type(SCORE_TYPE)
    require_scope(platform, AGS_SCORE)
    gradebook.record_score(platform.store, course_id, item_id, json_body())
    return Response("", status=200)


@bp.get(f"{BASE}/<item_id>/lineitem/results")
@ags_endpoint
def get_results(platform, course_id: str, item_id: str):
    """GET the current results of a line item, optionally for one user_id."""
    check_accept(RESULTS_TYPE)
    require_scope(platform, AGS_RESULT_READONLY)
    item = gradebook.line_item(platform.store, course_id, item_id)
    item_url = platform.lineitem_url(course_id, item["id"])
    results_url = platform.service_url(course_id, item["id"], "results")
    body = []
    user_id = request.args.get("user_id")
    for result in gradebook.results(platform.store, course_id, item_id, user_id):
        entry = {
            "id": f"{results_url}&user_id={result['userId']}",
            "scoreOf": item_url,
            "userId": result["userId"],
            "resultMaximum": item["scoreMaximum"],
            "timestamp": result["gradedAt"],
        }
        if result["grade"] is not None:
            entry["resultScore"] = result["grade"]
        if result["comment"]:
            entry["comment"] = result["comment"]
        body.append(entry)
    page, headers = paged(body, platform.url(request.path))
    return json_answer(page, RESULTS_TYPE, headers=headers)
