"""Clients for the platform's services: OAuth2 tokens, AGS (grades) and NRPS (roster).

Tokens come from pylti1p3's client-credentials flow (a JWT assertion signed with the
tool's key, `kid` in its header) and are cached in the shared store until shortly before
they expire, so every worker reuses them: platforms rate-limit tools that ask each time.
Every call has a timeout. A 401 drops the cached token and tries once more.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from flask import current_app
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from lti_tool.identity.models import Platform
from lti_tool.lti import tool_config
from lti_tool.lti.storage import shared_store

log = logging.getLogger(__name__)

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_SCORE = AGS + "score"
SCOPE_LINEITEM = AGS + "lineitem"
SCOPE_LINEITEM_READ = AGS + "lineitem.readonly"
SCOPE_RESULT_READ = AGS + "result.readonly"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#: Seconds before a token's stated expiry at which it is no longer handed out.
TOKEN_MARGIN = 60


class PlatformServiceError(Exception):
    """A platform service call failed; `status` is None when no answer came."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "",
                 url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:2000]
        self.url = url

    @property
    def retryable(self) -> bool:
        """Worth trying again later: no answer, a timeout, 408, 429 or a 5xx."""
        return self.status is None or self.status in (408, 429) or self.status >= 500

    def describe(self) -> str:
        """The platform's answer in one line, for mentors and logs."""
        if self.status is None:
            return str(self)
        return f"HTTP {self.status}: {self.body.strip() or '(empty answer)'}"


class _OwnHeaders(AuthBase):
    """The Authorization header the tool sets stands as it is.

    Without an auth of its own, requests looks the host up in ~/.netrc (or $NETRC) and, when
    it finds it, replaces the header with that login's Basic credentials: a server whose
    account has a .netrc entry for the LMS would send the LMS a password instead of the
    service token, and every AGS and NRPS call would be refused."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class PlatformSession(requests.Session):
    """A requests session for calls to platforms: every call has a timeout.

    `follow_redirects=False` for calls whose target was checked before the call (Dynamic
    Registration): a redirect could lead to another site than the one checked.
    """

    def __init__(self, timeout: float, *, follow_redirects: bool = True) -> None:
        super().__init__()
        self.timeout = timeout
        self.follow_redirects = follow_redirects
        self.headers["User-Agent"] = "DesignMindsetDetector/1"
        self.auth = _OwnHeaders()
        # Connections to a platform are kept alive and reused, up to this many at once
        # (the grades worker sends several scores in parallel).
        for scheme in ("https://", "http://"):
            self.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=16))
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        if not self.follow_redirects:
            kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                     response: requests.Response) -> None:
        """On a redirect: drop the Authorization header when the host changes, as requests
        does, but never put a ~/.netrc login in its place."""
        if ("Authorization" in prepared_request.headers
                and self.should_strip_auth(response.request.url, prepared_request.url)):
            del prepared_request.headers["Authorization"]

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        """requests' settings from the environment (proxies, no_proxy, CA bundle), found once
        per origin.

        requests walks the whole of os.environ for them on every request: about a sixth of
        the grades worker's CPU per score (bench/grades.py --platform lean). The environment
        does not change while the tool runs, so the first answer for an origin stands (calls
        with settings of their own are merged as requests merges them)."""
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        origin = urlsplit(url)[:2]
        found = self._environment.get(origin)
        if found is None:
            found = super().merge_environment_settings(url, {}, None, None, None)
            self._environment[origin] = found
        return {**found, "proxies": dict(found["proxies"])}


class _SharedTokenConnector(ServiceConnector):
    """pylti1p3's token flow with the token cache in the shared store."""

    def _scope_key(self, scopes: Any) -> str:
        # The library keys by issuer alone; Canvas gives every customer one issuer, so the
        # client id must be part of the key too.
        raw = "|".join([self._registration.get_issuer() or "",
                        self._registration.get_client_id() or "", *sorted(scopes)])
        return "service-token:" + hashlib.sha256(raw.encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return shared_store().get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        ttl = int(float(expires_in or 0)) - TOKEN_MARGIN
        if ttl > 0:
            shared_store().set(scope_key, access_token, ttl)


def scores_url(lineitem_url: str) -> str:
    """`{lineitem}/scores`, inserted into the path: Moodle's line item URLs carry a query."""
    return _with_path_suffix(lineitem_url, "/scores")


def results_url(lineitem_url: str) -> str:
    """`{lineitem}/results`, inserted into the path before any query."""
    return _with_path_suffix(lineitem_url, "/results")


def _with_path_suffix(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


@dataclass(frozen=True)
class MembersPage:
    """One page of an NRPS membership container."""

    members: list[dict[str, Any]]
    context: dict[str, Any]
    next_url: str | None


class ServiceClient:
    """Calls one platform's services on behalf of the tool."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = PlatformSession(current_app.config["HTTP_TIMEOUT_SECONDS"])
        self.connector = _SharedTokenConnector(
            tool_config.registration_for(platform), requests_session=self.http
        )

    def access_token(self, scopes: list[str]) -> str:
        """A bearer token for these scopes (cached, shared by every worker)."""
        try:
            return self.connector.get_access_token(scopes)
        except LtiServiceException as exc:
            response = exc.response
            raise PlatformServiceError(
                f"The platform's token endpoint refused: HTTP {response.status_code}",
                status=response.status_code, body=response.text, url=response.url,
            ) from exc
        except (requests.RequestException, KeyError, ValueError) as exc:
            raise PlatformServiceError(
                f"No token from {self.platform.auth_token_url}: {exc}",
                url=self.platform.auth_token_url,
            ) from exc

    def forget_token(self, scopes: list[str]) -> None:
        """Drop a cached token (after the platform said 401 to it)."""
        shared_store().delete(self.connector._scope_key(sorted(scopes)))

    def call(self, method: str, url: str, scopes: list[str], *, accept: str | None = None,
             content_type: str | None = None, body: str | None = None,
             token: str | None = None) -> requests.Response:
        """One service request; a 401 refreshes the token once; other failures raise.

        With `token` given, that token is used and a 401 raises like any refusal: nothing
        touches the token cache (for threads that only talk HTTP)."""
        for attempt in (1, 2):
            bearer = token or self.access_token(scopes)
            headers = {"Authorization": "Bearer " + bearer}
            if accept:
                headers["Accept"] = accept
            if content_type:
                headers["Content-Type"] = content_type
            try:
                response = self.http.request(method, url, headers=headers, data=body)
            except requests.RequestException as exc:
                raise PlatformServiceError(f"No answer from {url}: {exc}", url=url) from exc
            if response.status_code == 401 and attempt == 1 and token is None:
                log.info("platform %s answered 401; refreshing the token once", url)
                self.forget_token(scopes)
                continue
            if not response.ok:
                raise PlatformServiceError(
                    f"{method} {url} answered {response.status_code}",
                    status=response.status_code, body=response.text, url=url,
                )
            return response
        raise AssertionError("unreachable")

    # -- AGS --------------------------------------------------------------------------
    def post_score(self, lineitem_url: str, score: dict[str, Any]) -> None:
        """POST a score to `{lineitem}/scores`."""
        self.call("POST", scores_url(lineitem_url), [SCOPE_SCORE],
                  content_type=SCORE_TYPE, body=json.dumps(score))

    def send_score(self, lineitem_url: str, score: dict[str, Any], token: str) -> None:
        """POST a score with a token fetched beforehand; safe from several threads at once."""
        self.call("POST", scores_url(lineitem_url), [SCOPE_SCORE],
                  content_type=SCORE_TYPE, body=json.dumps(score), token=token)

    def line_items(self, lineitems_url: str, *, resource_link_id: str | None = None,
                   resource_id: str | None = None,
                   scopes: list[str] | None = None) -> list[dict[str, Any]]:
        """The line items of a context (optionally of one resource link, or with one
        resourceId), every page."""
        url = lineitems_url
        if resource_link_id:
            url = _add_query(url, "resource_link_id", resource_link_id)
        if resource_id:
            url = _add_query(url, "resource_id", resource_id)
        items: list[dict[str, Any]] = []
        while url:
            response = self.call("GET", url, scopes or [SCOPE_LINEITEM_READ],
                                 accept=LINEITEMS_TYPE)
            page = response.json()
            items.extend(page if isinstance(page, list) else [])
            url = response.links.get("next", {}).get("url")
        return items

    def create_line_item(self, lineitems_url: str, item: dict[str, Any]) -> dict[str, Any]:
        """Create a line item (needs the lineitem scope); returns it with its `id` URL."""
        response = self.call("POST", lineitems_url, [SCOPE_LINEITEM], accept=LINEITEM_TYPE,
                             content_type=LINEITEM_TYPE, body=json.dumps(item))
        return response.json()

    # -- NRPS -------------------------------------------------------------------------
    def members_pages(self, memberships_url: str, *, limit: int = 100) -> Iterator[MembersPage]:
        """Every page of the course roster, following `Link: rel="next"` unaltered."""
        url: str | None = _add_query(memberships_url, "limit", str(limit)) if limit else (
            memberships_url
        )
        while url:
            response = self.call("GET", url, [SCOPE_NRPS], accept=NRPS_TYPE)
            try:
                body = response.json()
            except ValueError as exc:
                raise PlatformServiceError(
                    f"{url} did not answer with JSON", status=response.status_code,
                    body=response.text, url=url,
                ) from exc
            if not isinstance(body, dict):
                raise PlatformServiceError(
                    f"{url} did not answer with a membership container",
                    status=response.status_code, body=response.text, url=url,
                )
            next_url = response.links.get("next", {}).get("url")
            yield MembersPage(
                members=[m for m in body.get("members", []) if isinstance(m, dict)],
                context=body.get("context") or {},
                next_url=next_url,
            )
            url = next_url


def _add_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))
