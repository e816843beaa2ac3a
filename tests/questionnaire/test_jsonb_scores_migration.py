"""The upgrade that stores result scores as jsonb on PostgreSQL keeps every score."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from tests.conftest import scratch_app
from tests.questionnaire.test_latest_markers_migration import NOW, POPULATED

BEFORE = "44fc9bf24db1"
JSONB = "5c2e8a7d41b9"
SCORES = {"empathy": {"score": 7.25, "mean": 5.5}, "optimism": {"score": 3.0, "mean": 2.75},
          "collaboration": {"score": 10.0, "mean": 7.0}}


#: The attempts of the latest-markers test, with people as they are from the name key on.
STATEMENTS = [
    *POPULATED[:2],
    *(f"INSERT INTO person (id, platform_id, sub, name, name_key, created_dt, updated_dt) "
      f"VALUES ({n}, 1, '{n}', 'P{n}', 'p{n}', {NOW}, {NOW})" for n in (2, 3, 4)),
    *(statement for statement in POPULATED[2:] if "INTO person " not in statement),
]


def _scores(conn) -> dict[int, dict]:
    rows = conn.execute(text("SELECT id, dimension_scores FROM result")).all()
    return {row.id: json.loads(row.dimension_scores) if isinstance(row.dimension_scores, str)
            else row.dimension_scores for row in rows}


def test_the_upgrade_keeps_every_score_and_the_paths_the_cohort_reads(scratch_database,
                                                                       tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for statement in STATEMENTS:
                conn.execute(text(statement))
            for result_id, attempt_id in ((1, 11), (2, 15)):
                conn.execute(text(
                    "INSERT INTO result (id, attempt_id, overall, dimension_scores, area_scores, "
                    "quality_flags, flagged, scored_dt) VALUES (:id, :attempt, 6.75, :scores, "
                    f"'{{}}', '[]', false, {NOW})"),
                    {"id": result_id, "attempt": attempt_id, "scores": json.dumps(SCORES)})
        upgrade(revision=JSONB)
        postgresql = db.engine.dialect.name == "postgresql"
        with db.engine.connect() as conn:
            upgraded = _scores(conn)
            stored_as = conn.execute(text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'result' AND column_name = "
                "'dimension_scores'")).scalar() if postgresql else "json"
            empathy = conn.execute(text(
                "SELECT CAST(dimension_scores #>> '{empathy,score}' AS FLOAT) FROM result "
                "ORDER BY id") if postgresql else text(
                "SELECT CAST(json_extract(dimension_scores, '$.empathy.score') AS FLOAT) "
                "FROM result ORDER BY id")).scalars().all()
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            back = _scores(conn)
        db.engine.dispose()

    assert upgraded == {1: SCORES, 2: SCORES}
    # Stored parsed on PostgreSQL; SQLite keeps its JSON text.
    assert stored_as == ("jsonb" if postgresql else "json")
    assert empathy == [7.25, 7.25]
    assert back == upgraded
