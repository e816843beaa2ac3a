"""The upgrade that turns stored quality flags (lists and English sentences) into data."""

from __future__ import annotations

import json
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from tests.conftest import scratch_app

BEFORE = "1a0d5b776169"  # where the populated data's shape comes from
#: The revision just before structured flags (later branches' migrations came in between).
PARENT = "bae3e484345c"
STRUCTURED = "db59f07209a1"




def _stored(conn) -> dict[int, list | dict]:
    rows = conn.execute(text("SELECT attempt_id, quality_flags FROM result")).all()
    return {attempt_id: json.loads(flags) if isinstance(flags, str) else flags
            for attempt_id, flags in rows}


def test_the_upgrade_turns_stored_sentences_into_flags(scratch_database, tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE)
        statements = Path(__file__).with_name(
            "populated_before_structured_flags.sql").read_text()
        with db.engine.begin() as conn:
            for statement in filter(str.strip, statements.split(";")):
                conn.execute(text(statement))
        upgrade(revision=STRUCTURED)
        with db.engine.connect() as conn:
            flags = _stored(conn)
            flagged = dict(conn.execute(text("SELECT attempt_id, flagged FROM result")).all())
        downgrade(revision=PARENT)
        with db.engine.connect() as conn:
            back = _stored(conn)
        db.engine.dispose()

    assert flags[1] == []
    assert flags[2] == [
        {"kind": "attention_check", "item": "check1", "expected": 3, "value": 5},
        {"kind": "too_fast", "page": 3, "seconds": 9.5, "count": 12, "minimum": 1.5},
    ]
    # A sentence in a wording nobody parses any more: the finding stays, without details.
    assert flags[3] == [{"kind": "straight_lining", "page": 1}]
    assert {key: bool(value) for key, value in flagged.items()} == {1: False, 2: True, 3: True}
    # And back again, in the old shape (the sentences rebuilt from the data).
    assert back[2]["failed_attention_checks"] == ["check1"]
    assert back[2]["too_fast_pages"] == [3]
    assert back[2]["reasons"] == [
        "Attention check check1 asked for 3 (Somewhat disagree) and got 5 (Somewhat agree).",
        "Page 4 (Self) took 9.5 s for 12 statements, under 1.5 s each.",
    ]
    assert back[1] == {"failed_attention_checks": [], "straight_lined_pages": [],
                       "too_fast_pages": [], "reasons": []}
