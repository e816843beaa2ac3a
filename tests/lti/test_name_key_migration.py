"""The upgrade that gives every existing person their stored name key."""

from __future__ import annotations

import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from tests.conftest import scratch_app

BEFORE = "3e51b8689d18"
KEYED = "44fc9bf24db1"
NOW = "'2026-11-01 10:00:00'"


def _person(person_id: int, name: str | None, given: str | None, family: str | None) -> str:
    def value(text_value: str | None) -> str:
        return "NULL" if text_value is None else "'" + text_value.replace("'", "''") + "'"

    return ("INSERT INTO person (id, platform_id, sub, name, given_name, family_name, "
            f"created_dt, updated_dt) VALUES ({person_id}, 1, 'sub-{person_id}', {value(name)}, "
            f"{value(given)}, {value(family)}, {NOW}, {NOW})")


PEOPLE = {
    2: ("Ada Lovelace", "Ignored", "Given"),
    3: (None, "Grace", "Hopper"),
    4: ("", "Only Given", None),
    5: (None, None, "STRAßE"),
    6: (None, None, None),
}


def test_the_upgrade_keys_every_person_by_their_display_name(scratch_database, tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO platform (id, issuer, client_id, name, auth_login_url, "
                "auth_token_url, key_set_url, created_dt) VALUES (1, 'https://lms.example.edu', "
                f"'tool', 'LMS', 'https://x/auth', 'https://x/token', 'https://x/certs', {NOW})"))
            for person_id, names in PEOPLE.items():
                conn.execute(text(_person(person_id, *names)))
        upgrade(revision=KEYED)
        with db.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT id, name_key FROM person")).all())
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM person")).scalar()
        db.engine.dispose()

    tag = hashlib.sha256(b"1:sub-6").hexdigest()[:4]
    assert keys == {2: "ada lovelace", 3: "grace hopper", 4: "only given", 5: "strasse",
                    6: f"learner {tag}"}
    assert left == len(PEOPLE)
