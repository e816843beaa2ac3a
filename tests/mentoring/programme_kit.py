"""A mentoring programme with something to evaluate: sessions held and missed, goals (some
achieved), overdue actions and session ratings, written straight into the database.

Used by the evaluation tests and by the screenshot of the programme page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lti_tool.extensions import db
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    Goal,
    GoalStatus,
    MeetingMode,
    MentoringSession,
    SessionStatus,
)
from lti_tool.mentoring.programme.models import SessionRating

#: Each learner's rating of their attended session, in learner order.
RATINGS = (5, 4, 4, 3, 5, 2)


@dataclass(frozen=True)
class Seeded:
    """What was written, for the tests to check the figures against."""

    held: int
    missed: int
    goals: int
    achieved: int
    overdue: int
    ratings: tuple[int, ...]


def seed_programme(course_id: int, mentor_id: int, learner_ids: list[int], today: date,
                   rated: int | None = None) -> Seeded:
    """Per learner: an attended session two weeks ago, a goal (every other one achieved) with
    one overdue action; the last learner also missed a session. The first `rated` learners
    (all by default) rate their attended session."""
    rated = len(learner_ids) if rated is None else rated
    start = datetime(today.year, today.month, today.day, 9) - timedelta(days=14)
    ratings = []
    for index, learner_id in enumerate(learner_ids):
        held = MentoringSession(
            uid=f"held-{course_id}-{learner_id}@test", course_id=course_id, mentor_id=mentor_id,
            learner_id=learner_id, start_dt=start + timedelta(hours=2 * index),
            end_dt=start + timedelta(hours=2 * index, minutes=90), mode=MeetingMode.IN_PERSON,
            status=SessionStatus.ATTENDED, created_by_id=mentor_id)
        goal = Goal(course_id=course_id, learner_id=learner_id, created_by_id=mentor_id,
                    title="Interview users before deciding", dimension_ids=["empathy"],
                    target_date=today + timedelta(days=30),
                    status=GoalStatus.ACHIEVED if index % 2 == 0 else GoalStatus.ACTIVE,
                    # Reviewed: the even ones attained (0 or +1), the second and fourth below
                    # (-1, -2); the sixth not reviewed yet.
                    attainment=(index % 4 == 0) * 1 if index % 2 == 0 else (
                        {1: -1, 3: -2}.get(index)))
        db.session.add_all([held, goal])
        db.session.flush()
        db.session.add(ActionItem(goal_id=goal.id, title="Talk to two users",
                                  owner=ActionOwner.LEARNER, due_date=today - timedelta(days=3)))
        if index < rated:
            rating = RATINGS[index % len(RATINGS)]
            ratings.append(rating)
            db.session.add(SessionRating(session_id=held.id, learner_id=learner_id,
                                         rating=rating, helped="Thinking aloud together"))
    missed_by = learner_ids[-1]
    db.session.add(MentoringSession(
        uid=f"missed-{course_id}-{missed_by}@test", course_id=course_id, mentor_id=mentor_id,
        learner_id=missed_by, start_dt=start + timedelta(days=7),
        end_dt=start + timedelta(days=7, minutes=90), mode=MeetingMode.ONLINE,
        status=SessionStatus.NO_SHOW, created_by_id=mentor_id))
    db.session.commit()
    count = len(learner_ids)
    return Seeded(held=count, missed=1, goals=count, achieved=(count + 1) // 2, overdue=count,
                  ratings=tuple(ratings))
