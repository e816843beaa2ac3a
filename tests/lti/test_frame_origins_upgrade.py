"""The upgrade that stops trusting Origin headers keeps only the framing origins on a
platform's own registered sites."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from tests.conftest import scratch_app

BEFORE = "4154d51df815"
SIGNED_ONLY = "6b5368bc1271"




def test_the_upgrade_keeps_only_origins_on_the_platforms_own_sites(scratch_database, tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    canvas = ["https://school.instructure.com", "https://attacker.example",
              "http://school.instructure.com", "https://canvas.instructure.com",
              "https://school.instructure.com.evil.example", "not a url"]
    moodle = ["https://moodle.uni.ac.uk", "https://evil.ac.uk", "https://www.uni.ac.uk"]
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            insert = text(
                "INSERT INTO platform (id, issuer, client_id, name, auth_login_url, "
                "auth_token_url, key_set_url, frame_origins, created_dt) VALUES (:id, :issuer, "
                "'c', 'n', :login, :token, :keys, :origins, CURRENT_TIMESTAMP)")
            if db.engine.dialect.name == "postgresql":
                insert = text(str(insert).replace(":origins", "CAST(:origins AS JSON)"))
            conn.execute(insert, [
                {"id": 1, "issuer": "https://canvas.instructure.com",
                 "login": "https://sso.canvaslms.com/api/lti/authorize_redirect",
                 "token": "https://sso.canvaslms.com/login/oauth2/token",
                 "keys": "https://sso.canvaslms.com/api/lti/security/jwks",
                 "origins": json.dumps(canvas)},
                {"id": 2, "issuer": "https://moodle.uni.ac.uk",
                 "login": "https://moodle.uni.ac.uk/mod/lti/auth.php",
                 "token": "https://moodle.uni.ac.uk/mod/lti/token.php",
                 "keys": "https://moodle.uni.ac.uk/mod/lti/certs.php",
                 "origins": json.dumps(moodle)},
            ])
            # Rows that point at the platforms must come through untouched.
            conn.execute(text("INSERT INTO deployment (id, platform_id, deployment_id, "
                              "created_dt) VALUES (1, 1, 'd', CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO person (id, platform_id, sub, created_dt, updated_dt) "
                              "VALUES (1, 1, 'learner', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        upgrade(revision=SIGNED_ONLY)
        with db.engine.connect() as conn:
            kept = sorted(conn.execute(text(
                "SELECT platform_id, origin FROM platform_frame_origin")).all())
            people = conn.execute(text("SELECT count(*) FROM person")).scalar()
            deployments = conn.execute(text("SELECT count(*) FROM deployment")).scalar()
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, frame_origins FROM platform")).all())
        db.engine.dispose()
    assert (people, deployments) == (1, 1)
    assert kept == [(1, "https://school.instructure.com"), (2, "https://www.uni.ac.uk")]
    back = {key: json.loads(value) if isinstance(value, str) else value
            for key, value in back.items()}
    assert back == {1: ["https://school.instructure.com"], 2: ["https://www.uni.ac.uk"]}
