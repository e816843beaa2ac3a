"""What every service endpoint shares: Moodle's literal media types, Bearer scopes, paging."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Response, request

from .tokens import bearer_scopes


class ServiceRefused(Exception):
    """Answer a service call with this status and JSON body (or an empty one)."""

    def __init__(self, status: int, body: object = None, headers: dict | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        """The HTTP answer for this refusal."""
        text = "" if self.body is None else json.dumps(self.body)
        mimetype = "application/json" if self.body is not None else None
        return Response(text, status=self.status, mimetype=mimetype, headers=self.headers)


def check_accept(media_type: str) -> None:
    """Moodle's rule for GET: no Accept, one containing */*, or exactly the service's type."""
    accept = request.headers.get("Accept", "")
    if accept and "*/*" not in accept and accept != media_type:
        raise ServiceRefused(400, {"error": f"Accept must be {media_type} (got {accept!r})"})


def check_content_type(media_type: str) -> None:
    """Moodle's rule for POST/PUT: the Content-Type header is exactly the service's type."""
    content_type = request.headers.get("Content-Type", "")
    if content_type != media_type:
        raise ServiceRefused(
            400, {"error": f"Content-Type must be exactly {media_type} (got {content_type!r})"}
        )


def check_type_id(platform) -> None:
    """The service URLs carry ?type_id=<tool type>; a client that dropped or mangled it fails."""
    if request.args.get("type_id") != platform.deployment_id:
        raise ServiceRefused(
            400, {"error": f"type_id must be {platform.deployment_id}: keep the URL's query string"}
        )


def require_scope(platform, *accepted: str) -> None:
    """401 unless the Bearer token is valid and grants one of the accepted scopes."""
    scopes = bearer_scopes(platform.store, request.headers.get("Authorization"))
    if scopes is None or not scopes.intersection(accepted):
        raise ServiceRefused(401, {"error": "invalid or missing Bearer token for this scope"},
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def json_body() -> object:
    """The request body as JSON, or a 400."""
    try:
        return json.loads(request.get_data(as_text=True))
    except ValueError:
        raise ServiceRefused(400, {"error": "the body is not JSON"}) from None


def json_answer(body: object, media_type: str, status: int = 200, headers: dict | None = None):
    """A JSON response with a vendor media type."""
    return Response(json.dumps(body), status=status, mimetype=media_type, headers=headers or {})


def paged(items: list, public_url: str) -> tuple[list, dict]:
    """Apply ?limit/&from and give the Link rel="next" header when more remain."""
    try:
        limit = int(request.args.get("limit", 0))
        start = int(request.args.get("from", 0))
    except ValueError:
        raise ServiceRefused(400, {"error": "limit and from must be integers"}) from None
    if limit < 0 or start < 0:
        raise ServiceRefused(400, {"error": "limit and from must not be negative"})
    if not limit:
        return items[start:], {}
    page = items[start:start + limit]
    if start + limit >= len(items):
        return page, {}
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "from"]
    query.append(("from", str(start + limit)))
    return page, {"Link": f'<{public_url}?{urlencode(query)}>; rel="next"'}
