"""Bulk seeding of a cohort straight into the database, for query-count tests and the bench.

Rows go in with a few executemany INSERTs (not the ORM unit of work), so 2,000 learners
with 46 answers each take about a second. Answers come from a fixed set of varied
patterns and are scored with the real scoring, so results, flags and statistics are real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person, Role, utcnow
from lti_tool.questionnaire.models import Answer, Attempt, Result, mark_latest
from lti_tool.questionnaire.scoring import Profile, score
from lti_tool.questionnaire.versions import current_instrument

PATTERNS = 25


@dataclass(frozen=True)
class Seeded:
    """Ids of what seed_cohort created."""

    person_ids: list[int]
    completed: int
    in_progress: int
    not_started: int


def answer_patterns(count: int = PATTERNS, seed: int = 7) -> list[tuple[dict[str, int], Profile]]:
    """Varied complete answer sets (each learner leans one way per dimension) and their profiles."""
    instrument = current_instrument()
    rng = random.Random(seed)
    patterns = []
    for _ in range(count):
        lean = {d.id: rng.randint(2, 6) for d in instrument.dimensions}
        answers = {}
        for item in instrument.items:
            if item.is_attention_check:
                answers[item.id] = item.attention_check_expected
                continue
            keyed = min(7, max(1, lean[item.dimension_id] + rng.choice((-1, 0, 0, 1))))
            answers[item.id] = 8 - keyed if item.reverse else keyed
        seconds = {page: 60.0 for page in range(len(instrument.pages()))}
        patterns.append((answers, score(instrument, answers, seconds)))
    return patterns


def seed_cohort(
    *, platform_id: int, course_id: int, resource_link_id: int, learners: int,
    mix: bool = True, prefix: str = "seed",
) -> Seeded:
    """Add `learners` learners to the course; with `mix`, 1 in 10 has not started and 1 in 10
    is halfway through, the rest completed; without it, every learner has completed."""
    instrument = current_instrument()
    patterns = answer_patterns()
    now = utcnow()
    people = db.session.execute(
        insert(Person).returning(Person.id, sort_by_parameter_order=True),
        [{"platform_id": platform_id, "sub": f"{prefix}-{i}", "given_name": f"Given{i}",
          "family_name": f"Family{i:05d}", "email": f"{prefix}{i}@example.com",
          "created_dt": now, "updated_dt": now} for i in range(learners)],
    ).scalars().all()
    db.session.execute(insert(Membership), [
        {"course_id": course_id, "person_id": person_id, "role": Role.LEARNER,
         "roles": ["Learner"], "active": True, "created_dt": now} for person_id in people
    ])
    kinds = ["done"] * learners
    if mix:
        kinds = ["none" if i % 10 == 0 else "half" if i % 10 == 1 else "done"
                 for i in range(learners)]
    takers = [(person_id, kind, i)
              for i, (person_id, kind) in enumerate(zip(people, kinds, strict=True))
              if kind != "none"]
    if takers:
        attempt_ids = db.session.execute(
            insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True),
            [{"person_id": person_id, "course_id": course_id,
              "resource_link_id": resource_link_id, "instrument_id": instrument.id,
              "instrument_version": instrument.version, "number": 1,
              "started_dt": now - timedelta(days=2), "updated_dt": now,
              "submitted_dt": now - timedelta(minutes=i) if kind == "done" else None,
              "current_page": 0, "page_seconds": {}}
             for person_id, kind, i in takers],
        ).scalars().all()
        answers, results = [], []
        for attempt_id, (_, kind, i) in zip(attempt_ids, takers, strict=True):
            given, profile = patterns[i % len(patterns)]
            items = list(given.items())
            if kind == "half":
                items = items[: len(items) // 2]
            answers += [{"attempt_id": attempt_id, "item_id": item_id, "value": value,
                         "answered_dt": now} for item_id, value in items]
            if kind == "done":
                row = Result.from_profile(None, profile)
                results.append({
                    "attempt_id": attempt_id, "overall": row.overall,
                    "dimension_scores": row.dimension_scores, "area_scores": row.area_scores,
                    "quality_flags": row.quality_flags, "flagged": row.flagged, "scored_dt": now,
                })
        db.session.execute(insert(Answer), answers)
        mark_latest(Attempt.id.in_(attempt_ids))
        if results:
            db.session.execute(insert(Result), results)
    db.session.commit()
    return Seeded(
        person_ids=list(people),
        completed=kinds.count("done"),
        in_progress=kinds.count("half"),
        not_started=kinds.count("none"),
    )
