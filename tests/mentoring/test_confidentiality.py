"""Confidentiality: the migration to three note levels, answers an activity hides from
mentors, site administrators without answers, and the texts that tell the learner who sees
what."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lti_tool.extensions import db
from lti_tool.identity.models import MentorKind, Role
from tests.conftest import scratch_app
from tests.mentoring.sessions_kit import get, text_of

BEFORE = "8c2dc2078ee9"
THREE_LEVELS = "6036cc40b381"
BEFORE_CHECK_INS = "1a0d5b776169"
CHECK_INS = "a64b8fd1852e"





def populate(file_name: str) -> None:
    """Run a file of SQL statements on the app's database."""
    statements = Path(__file__).with_name(file_name).read_text()
    with db.engine.begin() as conn:
        for statement in filter(str.strip, statements.split(";")):
            conn.execute(text(statement))


def test_the_upgrade_turns_private_notes_into_mentors_notes(scratch_database, tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE)
        populate("populated_before_note_levels.sql")
        upgrade(revision=THREE_LEVELS)
        with db.engine.connect() as conn:
            levels = dict(conn.execute(text("SELECT body, visibility FROM mentoring_note")).all())
            kinds = dict(conn.execute(text("SELECT role, mentor_kind FROM launch_session")).all())
        db.engine.dispose()
    assert levels == {"Mentors only, as it always meant": "mentors",
                      "Shared with the learner": "learner"}
    assert kinds == {"mentor": "assistant", "learner": None}


def test_the_upgrade_turns_progress_set_by_hand_into_a_first_check_in(scratch_database,
                                                                       tmp_path):
    other = scratch_app(scratch_database, tmp_path)
    with other.app_context():
        upgrade(revision=BEFORE_CHECK_INS)
        populate("populated_before_check_ins.sql")
        upgrade(revision=CHECK_INS)
        with db.engine.connect() as conn:
            check_ins = conn.execute(text(
                "SELECT goal_id, author_id, by, progress, created_dt FROM mentoring_goal_checkin"
            )).all()
            goals = {row.id: row for row in conn.execute(text(
                "SELECT id, title, description, progress, measure FROM mentoring_goal"))}
        db.engine.dispose()
    # The hand-set 70 is now a dated check-in by the mentor; the goal following its action
    # plan gets none (its 50 is worked out, not recorded).
    assert [(c.goal_id, c.author_id, c.by, c.progress) for c in check_ins] == [
        (1, 1, "mentor", 70)]
    assert str(check_ins[0].created_dt).startswith("2026-11-20 15:00")
    assert goals[1].progress == 70 and goals[2].progress == 50
    assert (goals[1].title, goals[1].description, goals[1].measure) == (
        "Interview three users", "", "")
    # A whole suggestion used as a title becomes the description; the title keeps its start.
    assert goals[3].description.startswith("Before each project meeting write down")
    assert goals[3].title.endswith("…") and len(goals[3].title) <= 80
    assert goals[3].title.startswith("Before each project meeting")


@pytest.fixture
def answered(make_activity, make_person, token_for, take):
    """A course whose learner answered everything; a lead mentor's and a TA's tokens."""
    activity = make_activity()
    activity.learner = make_person(activity, given_name="Lena", family_name="Learner")
    activity.attempt = take(activity, activity.learner)
    lead = make_person(activity, Role.MENTOR)
    assistant = make_person(activity, Role.MENTOR)
    activity.lead = token_for(activity, lead)
    activity.assistant = token_for(activity, assistant, kind=MentorKind.ASSISTANT)
    activity.learner_token = token_for(activity, activity.learner, Role.LEARNER)
    return activity


def answers_table(client, activity, token) -> bool:
    page = get(client, f"/mentor/learners/{activity.learner.id}", token)
    assert page.status_code == 200
    return 'class="table table-sm answers"' in page.get_data(as_text=True)


def test_the_lead_hides_answers_from_every_mentor_and_the_learner_is_told(client, answered):
    assert answers_table(client, answered, answered.lead)
    assert answers_table(client, answered, answered.assistant)
    start = text_of(get(client, "/questionnaire/", answered.learner_token))
    assert "and your answers, statement by statement" in start

    # Only the course's lead mentor may change it.
    refused = client.post("/mentor/programme/privacy",
                          data={"lt": answered.assistant, "answers_to_mentors": "0"})
    assert refused.status_code == 403
    saved = client.post("/mentor/programme/privacy",
                        data={"lt": answered.lead, "answers_to_mentors": "0"})
    assert saved.status_code == 303

    for token in (answered.lead, answered.assistant):
        assert not answers_table(client, answered, token)
        page = text_of(get(client, f"/mentor/learners/{answered.learner.id}", token))
        assert "This activity does not show learners' answers to mentors" in page
        # The results stay.
        assert "Overall" in page or "overall" in page
    start = text_of(get(client, "/questionnaire/", answered.learner_token))
    assert "not your answers: this activity keeps your answers between you" in start


def test_a_site_administrator_sees_results_but_never_answers(client, answered, make_person,
                                                            token_for):
    admin = make_person(answered, Role.MENTOR, given_name="Ada", family_name="Admin")
    token = token_for(answered, admin, kind=MentorKind.SITE_ADMIN)
    assert not answers_table(client, answered, token)
    page = text_of(get(client, f"/mentor/learners/{answered.learner.id}", token))
    assert "a site administrator without a mentor role in the course sees results" in page
    # Nor may they change what mentors see.
    assert client.post("/mentor/programme/privacy",
                       data={"lt": token, "answers_to_mentors": "1"}).status_code == 403


def test_the_privacy_page_says_who_sees_what(client):
    page = text_of(client.get("/privacy"))
    for line in ("Your answers, statement by statement yes yes, unless the activity hides "
                 "answers from mentors",
                 "Notes for the course's mentors no yes no no",
                 "A note a mentor keeps for themself no only its author no no"):
        assert line in page



def test_the_lead_opens_retakes_for_everyone_from_a_date(client, answered):
    # Only the lead mentor sets the date; a bad date is refused with the page and 400.
    assert client.post("/mentor/programme/retakes", data={
        "lt": answered.assistant, "opens": "2099-01-01"}).status_code == 403
    bad = client.post("/mentor/programme/retakes", data={"lt": answered.lead, "opens": "soon"})
    assert bad.status_code == 400 and "calendar date" in text_of(bad)
    saved = client.post("/mentor/programme/retakes", data={"lt": answered.lead,
                                                           "opens": "2099-01-01"})
    assert saved.status_code == 303
    assert "Retakes open on 1 January 2099." in text_of(
        get(client, "/mentor/programme/", answered.assistant))
    start = text_of(get(client, "/questionnaire/", answered.learner_token))
    assert "You may take the questionnaire again from 1 January 2099." in start
    removed = client.post("/mentor/programme/retakes", data={"lt": answered.lead,
                                                             "action": "remove"})
    assert removed.status_code == 303
    page = get(client, "/mentor/programme/", answered.lead).get_data(as_text=True)
    assert "No retake date is set." in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # The retake section is on the page once, in its body, not in its <title>.
    assert page.count('id="retakes-heading"') == 1
    assert re.search(r"<title>[^<]*</title>", page)
    assert "questionnaire again from" not in text_of(
        get(client, "/questionnaire/", answered.learner_token))
