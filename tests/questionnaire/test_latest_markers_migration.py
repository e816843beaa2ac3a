"""The upgrade that marks each person's latest (and latest submitted) attempt per activity."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from tests.conftest import scratch_app

BEFORE = "863dfb7a7ad7"
MARKED = "3e51b8689d18"
NOW = "'2026-11-01 10:00:00'"


def _attempt(attempt_id: int, person_id: int, link_id: int, number: int, submitted: bool) -> str:
    return (
        "INSERT INTO attempt (id, person_id, course_id, resource_link_id, instrument_id, "
        "instrument_version, number, started_dt, updated_dt, submitted_dt, current_page, "
        f"page_seconds) VALUES ({attempt_id}, {person_id}, 1, {link_id}, 'design_mindset', 1, "
        f"{number}, {NOW}, {NOW}, {NOW if submitted else 'NULL'}, 0, '{{}}')"
    )


POPULATED = [
    "INSERT INTO platform (id, issuer, client_id, name, auth_login_url, auth_token_url, "
    "key_set_url, created_dt) VALUES (1, 'https://lms.example.edu', 'tool', "
    f"'LMS', 'https://x/auth', 'https://x/token', 'https://x/certs', {NOW})",
    "INSERT INTO course (id, platform_id, context_id, label, title, created_dt, updated_dt) "
    f"VALUES (1, 1, '2', 'DMD101', 'Design course', {NOW}, {NOW})",
    *(f"INSERT INTO person (id, platform_id, sub, name, created_dt, updated_dt) VALUES "
      f"({n}, 1, '{n}', 'P{n}', {NOW}, {NOW})" for n in (2, 3, 4)),
    *("INSERT INTO resource_link (id, platform_id, course_id, resource_link_id, title, "
      f"description, ags_scopes, created_dt, updated_dt) VALUES ({n}, 1, 1, 'link-{n}', 'Q', "
      f"'', '[]', {NOW}, {NOW})" for n in (1, 2)),
    # Person 2: three attempts in link 1, the third in progress; one submitted in link 2.
    _attempt(10, 2, 1, 1, True), _attempt(11, 2, 1, 2, True), _attempt(12, 2, 1, 3, False),
    _attempt(13, 2, 2, 1, True),
    # Person 3: one in progress. Person 4: one submitted.
    _attempt(14, 3, 1, 1, False), _attempt(15, 4, 1, 1, True),
]


def test_the_upgrade_marks_each_latest_and_latest_submitted_attempt(scratch_database,
                                                                     tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for statement in POPULATED:
                conn.execute(text(statement))
        upgrade(revision=MARKED)
        with db.engine.connect() as conn:
            marked = {row.id: (bool(row.latest), bool(row.latest_submitted)) for row in
                      conn.execute(text("SELECT id, latest, latest_submitted FROM attempt"))}
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM attempt")).scalar()
        db.engine.dispose()

    assert marked == {
        10: (False, False), 11: (False, True), 12: (True, False), 13: (True, True),
        14: (True, False), 15: (True, True),
    }
    assert left == 6
