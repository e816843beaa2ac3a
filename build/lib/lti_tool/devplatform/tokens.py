"""OAuth 2 client-credentials tokens: the token endpoint and the Bearer check of service calls."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, current_app, jsonify, request

from .scopes import permitted_scopes
from .store import Store
from .toolkeys import ToolJWTError

bp = Blueprint("devplatform_tokens", __name__)

TOKEN_LIFETIME_SECONDS = 3600
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenRefused(Exception):
    """An OAuth error: ``error`` is the RFC 6749 code, the message its description."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.status = status


def grant_token(platform, form: dict) -> dict:
    """Check a client-credentials request; answer the token response or raise TokenRefused."""
    for field in ("grant_type", "client_assertion_type", "client_assertion", "scope"):
        if not form.get(field):
            raise TokenRefused("invalid_request", f"{field} is required")
    if form["grant_type"] != "client_credentials":
        raise TokenRefused("unsupported_grant_type", "grant_type must be client_credentials")
    if form["client_assertion_type"] != JWT_BEARER:
        raise TokenRefused("unsupported_grant_type", f"client_assertion_type must be {JWT_BEARER}")
    claims = _verified_assertion(platform, form["client_assertion"])
    requested = form["scope"].split()
    allowed = permitted_scopes(platform.settings)
    granted = [scope for scope in requested if scope in allowed]
    if not granted:
        raise TokenRefused("invalid_scope", "none of the requested scopes is permitted")
    if not _use_jti(platform.store, str(claims["jti"]), int(claims["exp"])):
        raise TokenRefused("invalid_client", "the assertion's jti was already used", 401)
    token = issue_access_token(platform.store, granted)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "scope": " ".join(granted),
    }


def _verified_assertion(platform, assertion: str) -> dict:
    """The client assertion's claims; RFC 7523 says every failure here is invalid_client."""
    try:
        claims = platform.tool_keys.verify(
            assertion,
            audience=platform.auth_token_url,
            required=("iss", "sub", "aud", "exp", "iat", "jti"),
        )
    except ToolJWTError as exc:
        raise TokenRefused("invalid_client", str(exc), 401) from exc
    client_id = platform.client_id
    if claims["iss"] != client_id or claims["sub"] != client_id:
        raise TokenRefused(
            "invalid_client", f"iss and sub must both be the client_id {client_id}", 401
        )
    return claims


@bp.post("/mod/lti/token.php")
def token_endpoint():
    """POST /mod/lti/token.php: form-encoded only, as Moodle's token.php."""
    platform = current_app.extensions["devplatform"]
    try:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise TokenRefused(
                "invalid_request", "the body must be application/x-www-form-urlencoded"
            )
        body = grant_token(platform, request.form.to_dict())
    except TokenRefused as refused:
        response = jsonify(error=refused.error, error_description=str(refused))
        response.status_code = refused.status
        if refused.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
    else:
        response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def bearer_scopes(store: Store, header: str | None) -> set[str] | None:
    """Scopes of the token in an ``Authorization: Bearer`` header; None when absent or invalid."""
    token = _bearer_token(header)
    if token is None:
        return None
    with store.read() as conn:
        row = conn.execute(
            "SELECT scopes FROM access_tokens WHERE token = ? AND expires_s > ?", (token, _now_s())
        ).fetchone()
    return set(row["scopes"].split()) if row else None


def issue_access_token(store: Store, scopes: list[str]) -> str:
    """Store and return a new opaque access token for these scopes."""
    token = secrets.token_hex(16)
    with store.write() as conn:
        conn.execute("DELETE FROM access_tokens WHERE expires_s <= ?", (_now_s(),))
        conn.execute(
            "INSERT INTO access_tokens (token, scopes, expires_s) VALUES (?, ?, ?)",
            (token, " ".join(scopes), _now_s() + TOKEN_LIFETIME_SECONDS),
        )
    return token


def revoke_access_token(store: Store, header: str | None) -> None:
    """Forget the token in an Authorization header, as an expired or purged token would be."""
    token = _bearer_token(header)
    if token is not None:
        with store.write() as conn:
            conn.execute("DELETE FROM access_tokens WHERE token = ?", (token,))


def _bearer_token(header: str | None) -> str | None:
    # Moodle compares the scheme literally: "bearer" or "BEARER" is refused.
    if not header or not header.startswith("Bearer "):
        return None
    return header[len("Bearer "):].strip() or None


def _use_jti(store: Store, jti: str, expires_s: int) -> bool:
    """Record an assertion's jti; False when it was already used (a replayed assertion)."""
    with store.write() as conn:
        conn.execute("DELETE FROM assertion_jtis WHERE expires_s <= ?", (_now_s(),))
        inserted = conn.execute(
            "INSERT OR IGNORE INTO assertion_jtis (jti, expires_s) VALUES (?, ?)", (jti, expires_s)
        )
        return inserted.rowcount == 1


def _now_s() -> int:
    return int(time.time())
