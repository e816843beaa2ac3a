"""Shared test kit for the development platform: a fake tool and launch helpers."""

from __future__ import annotations

import json
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from jwt.algorithms import RSAAlgorithm
from werkzeug.serving import make_server

from lti_tool.devplatform.config import tool_settings_from_url
from lti_tool.devplatform.forms import read_form

ISSUER = "http://localhost:5001"
CLIENT_ID = "dmd-devplatform"
TEACHER, LEARNER = "3", "4"
AUTH_PARAMS = {
    "scope": "openid",
    "response_type": "id_token",
    "response_mode": "form_post",
    "prompt": "none",
    "client_id": CLIENT_ID,
    "state": "state-123",
    "nonce": "nonce-123",
}


class FakeTool:
    """Just enough of a tool: an RSA key, a JWKS served on 127.0.0.1, signing helpers."""

    def __init__(self):
        self.jwks_fetches = 0
        self.rotate()
        app = Flask("fake_tool")

        @app.get("/lti/jwks")
        def jwks():
            self.jwks_fetches += 1
            return jsonify({"keys": [self.public_jwk]})

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def rotate(self) -> None:
        """Switch to a new key with a new kid (as a tool rotating its keys)."""
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"tool-{uuid.uuid4().hex[:8]}"
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        self.public_jwk = {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, claims: dict, headers: dict | None = None) -> str:
        """RS256 with the tool key and its kid unless headers replace them."""
        header = {"kid": self.kid} if headers is None else headers
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=header)

    def client_assertion(self, audience: str, headers: dict | None = None, **overrides) -> str:
        """A client-credentials assertion, valid unless overrides say otherwise."""
        now = int(time.time())
        claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": audience, "iat": now,
                  "exp": now + 300, "jti": uuid.uuid4().hex}
        claims.update(overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None}, headers)

    def stop(self) -> None:
        """Stop the JWKS server."""
        self._server.shutdown()
        self._server.server_close()


def platform_settings(tmp_path, fake_tool, **overrides) -> dict:
    """Settings for a platform whose tool keys are served by fake_tool."""
    tool = tool_settings_from_url("http://127.0.0.1:5000")
    tool["jwks_url"] = f"{fake_tool.url}/lti/jwks"
    settings = {"ISSUER": ISSUER, "DATA_DIR": str(tmp_path / "devplatform"), "LEARNERS": 12,
                "TOOL": tool}
    settings.update(overrides)
    return settings


def auth_request(devplatform, web, user_id=LEARNER, *, method="post", **changes):
    """Start a launch as the login page would, then call auth.php as a tool would."""
    _, fields = devplatform.initiate_login_form(user_id)
    params = {**AUTH_PARAMS, "redirect_uri": devplatform.tool.redirect_uris[0],
              "login_hint": fields["login_hint"], "lti_message_hint": fields["lti_message_hint"]}
    params.update(changes)
    params = {key: value for key, value in params.items() if value is not None}
    if method == "get":
        return web.get("/mod/lti/auth.php", query_string=params)
    return web.post("/mod/lti/auth.php", data=params)


def posted_fields(response) -> tuple[str, dict]:
    """(action, fields) of an auto-submitting form page."""
    action, method, fields = read_form(response.get_data(as_text=True))
    assert method == "post"
    return action, fields


def bearer(devplatform, *scopes) -> dict:
    """An Authorization header with a token for these scopes."""
    return {"Authorization": f"Bearer {devplatform.issue_access_token(list(scopes))}"}
