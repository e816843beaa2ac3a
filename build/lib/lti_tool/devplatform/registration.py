"""LTI Dynamic Registration as Moodle 4.5 does it: the OpenID configuration, single-use
registration tokens, the registration endpoint, and the page that opens a tool's
registration URL in a frame.

The registration endpoint checks the client registration like Moodle's
openid-registration.php (and a little more), answers with a new client id and deployment
id (Moodle's tool type id), and from then on the platform launches that tool: the
platform knows one tool at a time, as if the administrator had replaced the old one.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Blueprint, current_app, jsonify, render_template, request

from .canvas import opaque_id
from .claims import DEEP_LINKING, MOODLE_VERSION, RESOURCE_LINK
from .config import CANVAS_PRIVACY_LEVELS, ToolRegistration, origin_of
from .oidc import error_page
from .scopes import (
    AGS_LINEITEM,
    AGS_LINEITEM_READONLY,
    AGS_RESULT_READONLY,
    AGS_SCORE,
    NRPS_MEMBERSHIP,
)
from .store import iso_utc

bp = Blueprint("devplatform_registration", __name__)

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
#: Moodle's registration tokens are JWTs valid for an hour.
REGISTRATION_TOKEN_LIFETIME_SECONDS = 3600
SUPPORTED_SCOPES = (AGS_LINEITEM, AGS_LINEITEM_READONLY, AGS_RESULT_READONLY, AGS_SCORE,
                    NRPS_MEMBERSHIP)
NAME_CLAIMS = ("name", "given_name", "family_name")


class RegistrationRefused(Exception):
    """An error answer of the registration endpoint (RFC 7591 codes)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.status = status

    def response(self):
        """The JSON error answer."""
        answer = jsonify(error=self.error, error_description=str(self))
        answer.status_code = self.status
        return answer


def openid_configuration(platform) -> dict:
    """The platform's OpenID configuration, shaped like Moodle's openid-configuration.php
    (or Canvas's /api/lti/security/openid-configuration in the Canvas profile)."""
    if platform.is_canvas:
        return _canvas_configuration(platform)
    return {
        "issuer": platform.issuer,
        "token_endpoint": platform.auth_token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": platform.key_set_url,
        "authorization_endpoint": platform.auth_login_url,
        "registration_endpoint": platform.registration_endpoint,
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", *NAME_CLAIMS, "email"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "moodle",
            "version": MOODLE_VERSION,
            "messages_supported": [{"type": RESOURCE_LINK}, {"type": DEEP_LINKING}],
            "variables": ["ResourceLink.id", "Context.id", "Person.address.timezone"],
        },
    }


def _canvas_configuration(platform) -> dict:
    """Canvas's answer: the issuer is Canvas cloud's, the endpoints on its hosts."""
    placements = ["course_navigation", "assignment_selection", "link_selection"]
    return {
        "issuer": platform.issuer,
        "authorization_endpoint": platform.auth_login_url,
        "registration_endpoint": platform.registration_endpoint,
        "jwks_uri": platform.key_set_url,
        "token_endpoint": platform.auth_token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *SUPPORTED_SCOPES],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", *NAME_CLAIMS, "email", "picture", "locale"],
        "subject_types_supported": ["public"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "canvas",
            "version": "OpenSource",
            "messages_supported": [
                {"type": RESOURCE_LINK, "placements": ["course_navigation"]},
                {"type": DEEP_LINKING, "placements": placements[1:]},
            ],
            "variables": ["ResourceLink.id", "Context.id", "Person.address.timezone"],
            "https://canvas.instructure.com/lti/account_name": "Dev School",
        },
    }


def issue_registration_token(platform) -> str:
    """A registration token: a JWT signed by the platform, valid an hour, usable once."""
    now = int(time.time())
    jti = secrets.token_hex(16)
    claims = {"iss": platform.issuer, "aud": platform.issuer, "sub": secrets.token_hex(8),
              "scope": "reg", "iat": now, "exp": now + REGISTRATION_TOKEN_LIFETIME_SECONDS,
              "jti": jti}
    with platform.store.write() as conn:
        conn.execute("INSERT INTO registration_tokens (jti, expires_s) VALUES (?, ?)",
                     (jti, claims["exp"]))
    return platform.sign_jwt(claims)


def registration_start_url(platform, tool_registration_url: str) -> str:
    """The tool's registration URL with openid_configuration and a fresh token, as Moodle
    appends them (keeping the tool's own query string, such as an invitation code)."""
    query = urlencode({"openid_configuration": platform.openid_configuration_url,
                       "registration_token": issue_registration_token(platform)})
    separator = "&" if urlsplit(tool_registration_url).query else "?"
    return f"{tool_registration_url}{separator}{query}"


def check_registration_token(platform, header: str | None) -> dict:
    """The claims of a valid, unused registration token in an Authorization header."""
    if not header or not header.startswith("Bearer "):
        raise RegistrationRefused("invalid_token", "a Bearer registration token is required", 401)
    token = header[len("Bearer "):].strip()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = {key["kid"]: key for key in platform.jwks()["keys"]}
        claims = jwt.decode(
            token, jwt.PyJWK(keys[kid], algorithm="RS256").key, algorithms=["RS256"],
            audience=platform.issuer, issuer=platform.issuer,
            options={"require": ["exp", "iat", "jti"]},
        )
    except (jwt.PyJWTError, KeyError) as exc:
        raise RegistrationRefused("invalid_token", f"registration token refused: {exc}",
                                  401) from exc
    if claims.get("scope") != "reg":
        raise RegistrationRefused("invalid_token", "not a registration token", 401)
    with platform.store.read() as conn:
        row = conn.execute("SELECT used_dt FROM registration_tokens WHERE jti = ?",
                           (claims["jti"],)).fetchone()
    if row is None:
        raise RegistrationRefused("invalid_token", "this platform did not issue that token", 401)
    if row["used_dt"]:
        raise RegistrationRefused("invalid_token", "the registration token was already used",
                                  401)
    return claims


def check_client_registration(body: object) -> dict:
    """Moodle's checks of a client registration, and the LTI DR 1.0 MUSTs; returns the tool
    configuration part."""
    if not isinstance(body, dict):
        raise RegistrationRefused("invalid_client_metadata", "the body must be a JSON object")
    if "id_token" not in _strings(body.get("response_types")):
        raise RegistrationRefused("invalid_client_metadata", "response_types must include id_token")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise RegistrationRefused("invalid_client_metadata",
                                  "token_endpoint_auth_method must be private_key_jwt")
    grants = _strings(body.get("grant_types"))
    if not {"implicit", "client_credentials"} <= set(grants):
        raise RegistrationRefused("invalid_client_metadata",
                                  "grant_types must include implicit and client_credentials")
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris or not all(
        _is_url(uri) for uri in redirect_uris
    ):
        raise RegistrationRefused("invalid_redirect_uri",
                                  "redirect_uris must be an array of http(s) URLs")
    for field in ("initiate_login_uri", "jwks_uri"):
        if not _is_url(body.get(field)):
            raise RegistrationRefused("invalid_client_metadata", f"{field} must be an http(s) URL")
    if not isinstance(body.get("client_name"), str) or not body["client_name"].strip():
        raise RegistrationRefused("invalid_client_metadata", "client_name is required")
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        raise RegistrationRefused("invalid_client_metadata", f"{TOOL_CONFIGURATION} is required")
    target = tool.get("target_link_uri")
    if not _is_url(target):
        raise RegistrationRefused("invalid_client_metadata", "target_link_uri must be a URL")
    if tool.get("domain") != urlsplit(target).netloc:
        raise RegistrationRefused(
            "invalid_client_metadata",
            f"domain {tool.get('domain')!r} must equal the host[:port] of target_link_uri "
            f"({urlsplit(target).netloc})",
        )
    messages = tool.get("messages", [])
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and m.get("type") for m in messages
    ):
        raise RegistrationRefused("invalid_client_metadata", "messages must be a list of objects")
    return tool


def register_tool(platform, header: str | None, body: object) -> dict:
    """Register the tool described by `body` with a valid token; answer like Moodle."""
    token_claims = check_registration_token(platform, header)
    tool = check_client_registration(body)
    client_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(15))
    requested = _strings((body.get("scope") or "").split())
    granted = [scope for scope in requested if scope in SUPPORTED_SCOPES]
    deep_link = next((m.get("target_link_uri") for m in tool.get("messages", [])
                      if m.get("type") == DEEP_LINKING and _is_url(m.get("target_link_uri"))),
                     tool["target_link_uri"])
    with platform.store.write() as conn:
        # Single use: the token's row changes once, in the transaction that registers.
        used = conn.execute(
            "UPDATE registration_tokens SET used_dt = ? WHERE jti = ? AND used_dt IS NULL"
            " AND expires_s > ?", (iso_utc(), token_claims["jti"], int(time.time())),
        )
        if used.rowcount != 1:
            raise RegistrationRefused("invalid_token", "the registration token was already used",
                                      401)
        deployment_id = _next_deployment_id(conn, platform.config.tool.deployment_id)
        if platform.is_canvas:
            # The app is installed in the school's root account when the admin enables the
            # key; Canvas's deployment ids are "<id>:<context's opaque id>".
            deployment_id = f"{deployment_id}:{opaque_id('account', '1')}"
        registration = ToolRegistration(
            client_id=client_id, deployment_id=deployment_id,
            login_url=body["initiate_login_uri"], redirect_uris=tuple(body["redirect_uris"]),
            target_link_uri=tool["target_link_uri"], jwks_url=body["jwks_uri"],
            deep_link_url=deep_link,
        )
        conn.execute(
            "INSERT INTO tool_registrations (client_id, profile, deployment_id, tool_json,"
            " registration_json, created_dt) VALUES (?, ?, ?, ?, ?, ?)",
            (client_id, platform.profile, deployment_id, json.dumps(tool_json(registration)),
             json.dumps(body), iso_utc()),
        )
    platform.use_tool(registration)
    if platform.is_canvas:
        # Canvas answers without a deployment id: the tool learns it from the first launch.
        privacy = tool.get("https://canvas.instructure.com/lti/privacy_level")
        if privacy in CANVAS_PRIVACY_LEVELS:
            platform.settings["canvas_privacy"] = privacy
        return {**{key: value for key, value in body.items() if key != TOOL_CONFIGURATION},
                "client_id": client_id, "scope": " ".join(granted), TOOL_CONFIGURATION: tool}
    platform.settings.update(switches_for(requested, _strings(tool.get("claims"))))
    return {
        **{key: value for key, value in body.items() if key != TOOL_CONFIGURATION},
        "client_id": client_id,
        "scope": " ".join(granted),
        TOOL_CONFIGURATION: {**tool, "deployment_id": deployment_id,
                             "version": MOODLE_VERSION},
    }


def switches_for(scopes: list[str], claims: list[str]) -> dict:
    """Moodle derives the tool's service and privacy settings from what it asked for."""
    if AGS_LINEITEM in scopes:
        ags_mode = "full"
    elif AGS_SCORE in scopes:
        ags_mode = "grade_sync"
    else:
        ags_mode = "off"
    return {
        "ags_mode": ags_mode,
        "nrps_enabled": NRPS_MEMBERSHIP in scopes,
        "share_name": any(claim in claims for claim in NAME_CLAIMS),
        "share_email": "email" in claims,
    }


def tool_json(registration: ToolRegistration) -> dict:
    """A tool registration as stored."""
    return {
        "client_id": registration.client_id,
        "deployment_id": registration.deployment_id,
        "login_url": registration.login_url,
        "redirect_uris": list(registration.redirect_uris),
        "target_link_uri": registration.target_link_uri,
        "jwks_url": registration.jwks_url,
        "deep_link_url": registration.deep_link_url,
    }


def latest_registered_tool(store, profile: str) -> ToolRegistration | None:
    """The tool a profile registered last by Dynamic Registration, if any (kept across
    restarts)."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT tool_json FROM tool_registrations WHERE profile = ?"
            " ORDER BY CAST(deployment_id AS INTEGER) DESC LIMIT 1", (profile,),
        ).fetchone()
    if row is None:
        return None
    data = json.loads(row["tool_json"])
    return ToolRegistration(**{**data, "redirect_uris": tuple(data["redirect_uris"])})


def _next_deployment_id(conn, configured: str) -> str:
    ids = [int(configured)] if configured.isdigit() else [1]
    ids += [int(str(row[0]).split(":")[0]) for row in
            conn.execute("SELECT deployment_id FROM tool_registrations")
            if str(row[0]).split(":")[0].isdigit()]
    return str(max(ids) + 1)


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _platform():
    return current_app.extensions["devplatform"]


@bp.get("/.well-known/openid-configuration")
def well_known_configuration():
    """The OpenID configuration at the conventional address (public)."""
    return jsonify(openid_configuration(_platform()))


@bp.get("/api/lti/security/openid-configuration")
@bp.get("/mod/lti/openid-configuration.php")
def moodle_configuration():
    """The OpenID configuration at Moodle's address, which needs the registration token."""
    platform = _platform()
    try:
        check_registration_token(platform, request.headers.get("Authorization"))
    except RegistrationRefused as refused:
        return refused.response()
    return jsonify(openid_configuration(platform))


@bp.post("/api/lti/registrations")
@bp.post("/mod/lti/openid-registration.php")
def registration_endpoint():
    """The registration endpoint: a JSON client registration with a Bearer registration token."""
    platform = _platform()
    try:
        if not request.is_json:
            raise RegistrationRefused("invalid_client_metadata", "the body must be JSON")
        answer = register_tool(platform, request.headers.get("Authorization"),
                               request.get_json(silent=True))
    except RegistrationRefused as refused:
        return refused.response()
    return jsonify(answer)


@bp.get("/mod/lti/startltiadvregistration.php")
def start_registration():
    """Open a tool's registration URL in a frame, as Moodle's "Add LTI Advantage" does."""
    platform = _platform()
    url = request.args.get("url", "").strip()
    if not _is_url(url):
        return error_page("Invalid tool URL", "Paste the tool's registration URL (http or https).")
    return render_template(
        "devplatform/register_tool.html", platform=platform,
        frame_url=registration_start_url(platform, url), tool_origin=origin_of(url),
    )
