"""Programme evaluation: learners rate attended sessions; the lead mentor's programme page
shows sessions, goals, change and ratings, with figures on fewer than 5 people suppressed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event

from lti_tool.extensions import db
from lti_tool.identity.models import MentorKind, Role, utcnow
from lti_tool.mentoring.models import MentoringSession, SessionStatus
from lti_tool.mentoring.programme import evaluation
from lti_tool.mentoring.programme.models import SessionRating
from lti_tool.questionnaire.models import Attempt
from tests.mentoring.conftest import careful_answers
from tests.mentoring.programme_kit import seed_programme
from tests.mentoring.sessions_kit import get, mentored_course, text_of

FEWER = "fewer than 5"


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for, learners=6)


def _twice(take, course, learners):
    """These learners answer once (all 3s), are allowed a retake, and answer again (all 6s)."""
    for learner in learners:
        first = take(course.activity, learner, answers=careful_answers(3))
        first.retake_allowed_dt = utcnow()
        db.session.commit()
        take(course.activity, learner, answers=careful_answers(6))


def _figures(view):
    return {figure.key: figure for figure in view.sessions + view.goals + view.ratings
            + view.distribution}


def test_the_figures_of_a_programme(course, take):
    seeded = seed_programme(course.activity.course.id, course.mentor.id,
                            [p.id for p in course.learners], utcnow().date())
    _twice(take, course, course.learners[:5])

    view = evaluation.evaluate(course.mentor_launch)
    figures = _figures(view)
    assert figures["sessions_held"].text("en") == "6"
    assert figures["attendance_rate"].text("en") == "86 %"  # 6 of 7 due
    assert figures["no_show_rate"].text("en") == "14 %"
    assert figures["goals_set"].text("en") == "6"
    assert figures["goals_reviewed"].text("en") == "5"  # attainment rated
    assert figures["goals_attained"].text("en") == str(seeded.achieved) == "3"  # 0 or above
    assert figures["goals_attained_rate"].text("en") == "60 %"  # of the reviewed
    assert figures["actions_overdue"].text("en") == "6"
    assert figures["rating_mean"].text("en") == "3.8"  # 23 / 6
    assert figures["rating_mean"].text("pl") == "3,8"
    assert [figures[f"rating_{n}"].text("en") for n in range(1, 6)] == ["0", "1", "1", "2", "2"]
    assert view.changed_people == 5
    for line in view.changes:
        assert line.people == 5
        assert line.after.value > line.before.value
        assert line.increased.text("en") == "5" and line.decreased.text("en") == "0"


def test_figures_on_fewer_than_five_people_are_suppressed(client, course, take):
    learners = course.learners[:4]
    seed_programme(course.activity.course.id, course.mentor.id, [p.id for p in learners],
                   utcnow().date())
    _twice(take, course, learners)

    view = evaluation.evaluate(course.mentor_launch)
    for figure in _figures(view).values():
        assert figure.suppressed and figure.text("en") == FEWER, figure.key
    for line in view.changes:
        assert line.change.text("en") == FEWER

    page = text_of(get(client, "/mentor/programme/evaluation", course.mentor_token))
    assert FEWER in page
    exported = get(client, "/mentor/programme/evaluation.csv", course.mentor_token)
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Section", "Measure", "Value", "People"]
    # Neither a value nor the number of people behind it.
    assert all(row[2] == FEWER and row[3] == FEWER for row in rows[1:]), rows


def test_ratings_from_four_learners_are_suppressed_while_the_rest_shows(course):
    seed_programme(course.activity.course.id, course.mentor.id,
                   [p.id for p in course.learners], utcnow().date(), rated=4)
    figures = _figures(evaluation.evaluate(course.mentor_launch))
    assert figures["sessions_held"].text("en") == "6"
    assert figures["rating_mean"].text("en") == FEWER
    assert figures["rating_5"].text("en") == FEWER


def test_the_page_and_its_csv(client, course):
    seed_programme(course.activity.course.id, course.mentor.id,
                   [p.id for p in course.learners], utcnow().date())
    page = get(client, "/mentor/programme/evaluation", course.mentor_token)
    assert page.status_code == 200
    body = text_of(page)
    assert "Sessions held 6" in body and "Attendance rate (held of those due) 86 % 6" in body
    exported = get(client, "/mentor/programme/evaluation.csv", course.mentor_token)
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["Sessions", "Sessions held", "6", "6"] in rows
    assert ["Session ratings", "Mean rating (1-5)", "3.8", "6"] in rows


def test_only_the_lead_mentor_reaches_the_programme_figures(client, course, make_person,
                                                           token_for):
    assistant = make_person(course.activity, Role.MENTOR)
    admin = make_person(course.activity, Role.MENTOR)
    for token in (token_for(course.activity, assistant, kind=MentorKind.ASSISTANT),
                  token_for(course.activity, admin, kind=MentorKind.SITE_ADMIN),
                  course.learner_token):
        for path in ("/mentor/programme/evaluation", "/mentor/programme/evaluation.csv"):
            assert get(client, path, token).status_code == 403, path


def test_another_courses_programme_does_not_count(client, course, make_activity, make_person,
                                                  token_for):
    other = mentored_course(make_activity, make_person, token_for, label="B", learners=6)
    seed_programme(other.activity.course.id, other.mentor.id, [p.id for p in other.learners],
                   utcnow().date())
    figures = _figures(evaluation.evaluate(course.mentor_launch))
    assert figures["sessions_held"].people == 0
    assert figures["goals_set"].people == 0


# --- the learner rates a session ------------------------------------------------------------

def _rate(client, course, session_id, rating="4", helped="Drawing it out", index=0):
    return client.post(f"/plan/sessions/{session_id}/rating", data={
        "lt": course.learner_tokens[index], "rating": rating, "helped": helped})


def test_a_learner_rates_an_attended_session_and_sees_their_rating(client, course):
    seed_programme(course.activity.course.id, course.mentor.id, [course.learner.id],
                   utcnow().date(), rated=0)
    session_id = db.session.query(MentoringSession).filter_by(
        learner_id=course.learner.id, status=SessionStatus.ATTENDED).one().id
    plan = text_of(get(client, "/plan/", course.learner_token))
    assert "How helpful was this session?" in plan

    assert _rate(client, course, session_id).status_code == 303
    assert _rate(client, course, session_id, rating="5").status_code == 303  # again: replaces
    rating = db.session.query(SessionRating).one()
    assert (rating.rating, rating.helped) == (5, "Drawing it out")
    assert "Your rating: 5 of 5" in text_of(get(client, "/plan/", course.learner_token))


def test_a_learner_rates_nothing_but_their_own_attended_sessions(client, course):
    seed_programme(course.activity.course.id, course.mentor.id,
                   [course.learners[0].id, course.learners[1].id], utcnow().date(), rated=0)
    sessions = {(s.learner_id, s.status): s.id for s in db.session.query(MentoringSession)}
    someone_elses = sessions[(course.learners[1].id, SessionStatus.ATTENDED)]
    missed = sessions[(course.learners[1].id, SessionStatus.NO_SHOW)]
    own = sessions[(course.learners[0].id, SessionStatus.ATTENDED)]
    assert _rate(client, course, someone_elses).status_code == 404
    assert _rate(client, course, missed, index=1).status_code == 404
    assert _rate(client, course, own, rating="7").status_code == 400
    assert _rate(client, course, own, rating="").status_code == 400
    assert client.post(f"/plan/sessions/{own}/rating", data={
        "lt": course.mentor_token, "rating": "4"}).status_code == 403
    assert db.session.query(SessionRating).count() == 0


def test_attempts_only_count_when_submitted(course, take):
    """An attempt in progress is no 'after'."""
    for learner in course.learners[:5]:
        first = take(course.activity, learner, answers=careful_answers(3))
        first.retake_allowed_dt = utcnow()
        db.session.commit()
        take(course.activity, learner, answers=careful_answers(6), submit=False)
    assert db.session.query(Attempt).count() == 10
    assert evaluation.evaluate(course.mentor_launch).changed_people == 0


def _queries(work) -> int:
    seen = []

    def listener(*args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_evaluation_takes_the_same_queries_for_6_and_30_learners(course, make_person,
                                                                     take):
    launch = course.mentor_launch
    counts = {}
    for size in (6, 30):
        learners = [make_person(course.activity) for _ in range(size)]
        # The second cohort's sessions five days earlier: one mentor is never in two at once
        # (PostgreSQL's exclusion constraint).
        seed_programme(course.activity.course.id, course.mentor.id,
                       [p.id for p in learners],
                       utcnow().date() - timedelta(days=0 if size == 6 else 5))
        _twice(take, course, learners[:2])
        # The installation's reference group (pooled errors) is built once per new result and
        # cached; what is counted here is the page's own work.
        evaluation.evaluate(launch)
        counts[size] = _queries(lambda: evaluation.evaluate(launch))
    assert counts[6] == counts[30] <= 8, counts
