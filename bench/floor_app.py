"""The floor under a launch: the least an LTI 1.3 launch can cost in this stack.

    GUNICORN_BIND=127.0.0.1:8100 GUNICORN_PRELOAD=0 FLOOR_ISSUER=http://127.0.0.1:9555 \\
        .venv/bin/gunicorn -c deploy/gunicorn.conf.py 'floor_app:app' --chdir bench

Not part of the tool: a yardstick for bench/versus_anchor.py (`--floor`). Two Flask views
served by gunicorn with the tool's own deploy/gunicorn.conf.py, doing only what no launch
can skip, each step the cheapest way the stack offers:

- login: a random state and nonce, the state in a Secure cookie, a 302 to the platform;
- launch: the id_token's RS256 signature checked with PyJWT against the platform's key
  (fetched once and kept), its issuer, audience, expiry and nonce; the state cookie
  compared with the posted state; a one-line Jinja page naming the person.

No database, no session, no nonce store, no roles, no provisioning, no landing page worth
the name: whatever the tool costs above this is what its features cost. The launch's
answer carries `action="/questionnaire/begin"`, the text the tool's bench waits for.
"""

from __future__ import annotations

import os
import secrets
import threading
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, abort, make_response, redirect, render_template_string, request

ISSUER = os.environ.get("FLOOR_ISSUER", "http://127.0.0.1:9555")
CLIENT = os.environ.get("FLOOR_CLIENT_ID", "bench-client")
PAGE = '<!doctype html><p>Welcome, {{ name }}.</p><form action="/questionnaire/begin"></form>'

app = Flask(__name__)
_keys: dict[str, jwt.PyJWK] = {}
_lock = threading.Lock()


def _key(kid: str) -> jwt.PyJWK:
    """The platform's public key for this kid, fetched once."""
    with _lock:
        if kid not in _keys:
            for jwk in requests.get(ISSUER + "/jwks", timeout=5).json()["keys"]:
                _keys[jwk["kid"]] = jwt.PyJWK(jwk)
        return _keys[kid]


@app.route("/login", methods=["GET", "POST"])
def login():
    """OIDC login: state and nonce, the state cookie, a redirect to the platform."""
    values = request.values
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = urlencode({
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": CLIENT, "redirect_uri": values["target_link_uri"],
        "login_hint": values["login_hint"], "state": state, "nonce": nonce,
        "lti_message_hint": values.get("lti_message_hint", ""),
    })
    response = redirect(f"{ISSUER}/auth?{query}", code=302)
    response.set_cookie("floor-state", state, max_age=300, secure=True, httponly=True,
                        samesite="None")
    return response


@app.post("/launch")
def launch():
    """The id_token's signature and claims, the state cookie, a page."""
    token, state = request.form.get("id_token", ""), request.form.get("state", "")
    if not state or request.cookies.get("floor-state") != state:
        abort(400)
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, _key(header["kid"]), algorithms=["RS256"],
                            audience=CLIENT, issuer=ISSUER, options={"require": ["nonce"]})
    except (jwt.PyJWTError, KeyError):
        abort(401)
    return make_response(render_template_string(PAGE, name=claims.get("name", "")))
