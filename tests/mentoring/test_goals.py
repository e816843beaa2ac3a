"""Goals against a learner's dimensions (SMART, target date, status, progress), started from a
dimension's suggestions, and action plans the learner ticks off."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import goals
from lti_tool.mentoring.areas import dimension_choices, latest_result
from lti_tool.mentoring.goals import ActionDraft, GoalDraft
from lti_tool.mentoring.models import ActionItem, ActionOwner, Goal, GoalStatus
from lti_tool.mentoring.scope import BadInput, NotAllowed, NotFound
from lti_tool.questionnaire.versions import current_instrument
from tests.mentoring.conftest import careful_answers, leaning_answers
from tests.mentoring.sessions_kit import get, mentored_course, text_of

INSTRUMENT = current_instrument()


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def goal_form(token: str, **changes) -> dict:
    form = {"lt": token, "tz": "UTC", "title": "Interview three users",
            "dimension_ids": ["empathy"], "specific": "Three five-minute interviews",
            "measurable": "Three notes of surprises", "achievable": "Ten minutes a day",
            "relevant": "Empathy is an area to develop",
            "target_date": (utcnow().date() + timedelta(weeks=6)).isoformat(),
            "status": "active"}
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def make_goal(course, **changes) -> Goal:
    from werkzeug.datastructures import MultiDict

    form = MultiDict(goal_form(course.mentor_token, **changes))
    goal = goals.create_goal(course.mentor_launch, course.learner.id, GoalDraft.from_form(form))
    db.session.commit()
    return goal


def test_a_mentor_sets_a_smart_goal_against_dimensions(client, course):
    response = client.post(f"/mentor/learners/{course.learner.id}/goals", data=goal_form(
        course.mentor_token, dimension_ids=["empathy", "questioning"]))
    assert response.status_code == 303
    goal = db.session.scalar(select(Goal))
    assert goal.dimension_ids == ["empathy", "questioning"]
    assert (goal.learner_id, goal.course_id) == (course.learner.id, course.activity.course.id)
    assert goal.status is GoalStatus.ACTIVE and goal.progress == 0
    assert goal.measurable == "Three notes of surprises"

    page = text_of(client.get(response.headers["Location"]))
    assert "Interview three users" in page
    assert "Develops Empathy, Critical questioning" in page
    assert "Time-bound by" in page


@pytest.mark.parametrize(("changes", "words"), [
    ({"title": " "}, "title"),
    ({"dimension_ids": []}, "dimension"),
    ({"dimension_ids": ["telepathy"]}, "dimension"),
    ({"target_date": ""}, "target date"),
    ({"title": "Before each project meeting write three questions that begin with why or what "
               "if, and ask one"}, "Keep the title short"),
    ({"baseline": "four"}, "baseline as a number"),
    ({"measure": "", "target_value": "7"}, "Say what the baseline and the target measure"),
    ({"status": "forgotten"}, "active, achieved or dropped"),
])
def test_an_unusable_goal_form_is_shown_again_with_what_is_wrong(client, course, changes,
                                                                  words):
    response = client.post(f"/mentor/learners/{course.learner.id}/goals",
                           data=goal_form(course.mentor_token, **changes))
    assert response.status_code == 400
    assert words in text_of(response)
    assert db.session.scalar(select(Goal)) is None


def test_the_goal_form_writes_a_score_as_the_results_page_does(client, course, take):
    # Critical questioning keyed 4, 5, 4, 5: mean 4.5, score 1 + 9 × 3.5 / 6 = 6.25 exactly.
    answers = careful_answers(4)
    for item, keyed in zip(INSTRUMENT.items_for_dimension("questioning"), (4, 5, 4, 5),
                           strict=True):
        answers[item.id] = 8 - keyed if item.reverse else keyed
    take(course.activity, course.learner, answers=answers)

    page = get(client, f"/mentor/learners/{course.learner.id}/goals/new", course.mentor_token)
    summary = re.search(r"<summary>Critical questioning(.*?)</summary>",
                        page.get_data(as_text=True), re.S).group(1)
    assert "6.3 (±0.9) / 10" in summary and "6.2" not in summary


def test_the_picker_starts_a_goal_from_a_dimensions_suggestion(client, course, take):
    take(course.activity, course.learner, answers=leaning_answers(low="questioning"))
    weakest = "questioning"
    dimension = INSTRUMENT.dimension(weakest)
    suggestion = dimension.suggestions[1].get("en")

    page = get(client, f"/mentor/learners/{course.learner.id}/goals/new", course.mentor_token)
    html = page.get_data(as_text=True)
    # Areas to develop come first, each suggestion is a link that fills the form.
    first = re.search(r'<details class="picker-dimension"[^>]*>\s*<summary>([^<]+)', html)
    assert first.group(1).strip() == dimension.name.get("en")
    assert "area to develop" in html and "data-pick" in html

    filled = get(client, f"/mentor/learners/{course.learner.id}/goals/new", course.mentor_token,
                 dimension=weakest, suggestion=1)
    form = filled.get_data(as_text=True).split('data-goal-form', 1)[1]
    assert f'value="{weakest}" checked' in form
    target = (utcnow().date() + timedelta(weeks=6)).isoformat()
    assert f'value="{target}"' in form
    # A short title; the suggestion in full is the description, not the title.
    title = re.search(r'id="goal-title"[^>]*value="([^"]*)"', form).group(1)
    assert title == "Develop Critical questioning"
    description = re.search(r'id="goal-description"[^>]*>([^<]*)<', form).group(1)
    assert unescape(description) == suggestion
    # The measure starts from the dimension's score in the result the goal comes from.
    choice = next(c for c in dimension_choices(course.activity.course.id, course.learner.id,
                                               "en") if c.id == weakest)
    baseline = display(choice.score)  # as every page writes the score
    assert f'name="baseline" value="{baseline}"' in form
    assert f'name="target_value" value="{display(min(10.0, float(baseline) + 1))}"' in form
    assert "Critical questioning score at the next retake" in form
    # Achievable and Measurable are not left empty.
    for name in ("achievable", "measurable"):
        assert re.search(rf'id="goal-{name}"[^>]*>[^<]+<', form), name

    # Saved, the goal remembers the attempt its baseline came from.
    data = goal_form(course.mentor_token, dimension_ids=[weakest], baseline=baseline,
                     target_value="8", measure="Critical questioning score")
    assert client.post(f"/mentor/learners/{course.learner.id}/goals",
                       data=data).status_code == 303
    goal = db.session.scalar(select(Goal))
    attempt = latest_result(course.activity.course.id, course.learner.id).attempt
    assert goal.source_attempt_id == attempt.id
    assert goal.baseline == float(baseline) and goal.target_value == 8.0


def test_progress_follows_the_action_plan_as_the_learner_ticks_items_off(client, course):
    goal = make_goal(course)
    launch = course.mentor_launch
    first = goals.add_action(launch, goal.id, ActionDraft("Interview Ann", ActionOwner.LEARNER,
                                                          utcnow().date() + timedelta(days=7)))
    second = goals.add_action(launch, goal.id, ActionDraft("Send the guide", ActionOwner.MENTOR,
                                                           None))
    db.session.commit()

    ticked = client.post(f"/plan/actions/{first.id}", data={
        "lt": course.learner_token, "done": "1", "reflection": "She wanted fewer forms."})
    assert ticked.status_code == 303
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).progress == 50
    action = db.session.get(ActionItem, first.id)
    assert action.is_done and action.reflection == "She wanted fewer forms."
    assert action.done_by_id == course.learner.id

    # The mentor's item is theirs to tick.
    refused = client.post(f"/plan/actions/{second.id}", data={"lt": course.learner_token,
                                                               "done": "1"})
    assert refused.status_code == 403
    assert client.post(f"/mentor/actions/{second.id}/done", data={
        "lt": course.mentor_token, "done": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).progress == 100

    # Reopened, and with an item removed, the progress follows again.
    client.post(f"/plan/actions/{first.id}", data={"lt": course.learner_token, "done": "0"})
    client.post(f"/mentor/actions/{second.id}/delete", data={"lt": course.mentor_token})
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).progress == 0


def test_check_ins_by_learner_and_mentor_make_the_progress_history(client, course):
    goal = make_goal(course, measure="user interviews held", baseline="0", target_value="5")
    action = goals.add_action(course.mentor_launch, goal.id,
                              ActionDraft("Reflect", ActionOwner.LEARNER, None))
    db.session.commit()
    learner = client.post(f"/plan/goals/{goal.id}/check-ins", data={
        "lt": course.learner_token, "progress": "40", "value": "2",
        "note": "Two interviews done"})
    assert learner.status_code == 303
    mentor = client.post(f"/mentor/goals/{goal.id}/check-ins", data={
        "lt": course.mentor_token, "progress": "60", "value": "3,5", "note": "Good pace"})
    assert mentor.status_code == 303
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert [(c.by, c.progress, c.value, c.note) for c in goal.check_ins] == [
        (ActionOwner.LEARNER, 40, 2.0, "Two interviews done"),
        (ActionOwner.MENTOR, 60, 3.5, "Good pace")]
    assert goal.progress == 60
    # From the first check-in on, ticking an action no longer moves the progress.
    goals.tick_action(course.learner_launch(), action.id, True, "")
    assert goal.progress == 60

    for html in (text_of(get(client, "/plan/", course.learner_token)),
                 text_of(get(client, f"/mentor/learners/{course.learner.id}/plan",
                                 course.mentor_token))):
        assert "40% · user interviews held: 2 — Two interviews done" in html
        assert "60% · user interviews held: 3.5 — Good pace" in html
        assert "user interviews held: from 0 to 5" in html


@pytest.mark.parametrize(("form", "words"), [
    ({"progress": "140"}, "0 to 100"), ({"progress": ""}, "0 to 100"),
    ({"progress": "10", "value": "many"}, "measure's value as a number"),
])
def test_an_unusable_check_in_is_refused_with_what_is_wrong(client, course, form, words):
    goal = make_goal(course)
    response = client.post(f"/plan/goals/{goal.id}/check-ins",
                           data={"lt": course.learner_token, **form})
    assert response.status_code == 400 and words in text_of(response)
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).check_ins == []


def test_at_review_a_mentor_rates_attainment_and_sets_the_status(client, course):
    goal = make_goal(course)
    refused = client.post(f"/mentor/goals/{goal.id}/review", data={
        "lt": course.mentor_token, "attainment": "3", "status": "achieved"})
    assert refused.status_code == 400 and "from −2 to +2" in text_of(refused)
    saved = client.post(f"/mentor/goals/{goal.id}/review", data={
        "lt": course.mentor_token, "attainment": "1", "status": "achieved"})
    assert saved.status_code == 303
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert (goal.attainment, goal.status) == (1, GoalStatus.ACHIEVED)
    assert goal.reviewed_dt is not None and goal.closed_dt is not None
    page = text_of(get(client, "/plan/", course.learner_token))
    assert "Attainment at review: +1: somewhat more than expected" in page
    # The learner may neither review nor check in on someone else's goal.
    assert client.post(f"/mentor/goals/{goal.id}/review", data={
        "lt": course.learner_token, "attainment": "2", "status": "achieved"}).status_code == 403
    assert client.post(f"/plan/goals/{goal.id}/check-ins", data={
        "lt": course.learner_tokens[1], "progress": "10"}).status_code == 404


def test_overdue_items_are_highlighted_for_learner_and_mentor(client, course):
    goal = make_goal(course)
    launch = course.mentor_launch
    late = goals.add_action(launch, goal.id, ActionDraft("Overdue item", ActionOwner.LEARNER,
                                                         utcnow().date() - timedelta(days=2)))
    goals.add_action(launch, goal.id, ActionDraft("Future item", ActionOwner.LEARNER,
                                                  utcnow().date() + timedelta(days=2)))
    db.session.commit()

    for html in (get(client, "/plan/", course.learner_token).get_data(as_text=True),
                 get(client, f"/mentor/learners/{course.learner.id}/plan",
                     course.mentor_token).get_data(as_text=True)):
        row = re.search(rf'id="action-{late.id}" class="[^"]*overdue', html)
        assert row, html[:500]
        assert html.count("Overdue</span>") == 1


def test_action_forms_are_checked(course):
    goal = make_goal(course)
    from werkzeug.datastructures import MultiDict

    for form in ({"title": "", "owner": "learner"}, {"title": "x", "owner": "robot"},
                 {"title": "x", "owner": "learner", "due_date": "tomorrow"}):
        with pytest.raises(BadInput):
            goals.add_action(course.mentor_launch, goal.id, ActionDraft.from_form(MultiDict(form)))
    draft = ActionDraft.from_form(MultiDict({"title": "Read", "owner": "mentor",
                                             "due_date": "2031-02-03"}))
    assert draft == ActionDraft("Read", ActionOwner.MENTOR, date(2031, 2, 3))


def test_goals_and_actions_stay_in_their_course_and_with_their_learner(client, course,
                                                                       make_activity,
                                                                       make_person, token_for):
    goal = make_goal(course)
    action = goals.add_action(course.mentor_launch, goal.id,
                              ActionDraft("Mine", ActionOwner.LEARNER, None))
    db.session.commit()
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    foreign = mentored_course(make_activity, make_person, token_for, label="C")
    for intruder in (other, foreign):
        token = intruder.mentor_token
        assert get(client, f"/mentor/goals/{goal.id}/edit", token).status_code == 404
        assert get(client, f"/mentor/learners/{course.learner.id}/plan", token).status_code == 404
        assert get(client, f"/mentor/learners/{course.learner.id}/goals/new",
                   token).status_code == 404
        for path in (f"/mentor/goals/{goal.id}", f"/mentor/goals/{goal.id}/actions",
                     f"/mentor/actions/{action.id}/done", f"/mentor/actions/{action.id}/delete",
                     f"/mentor/learners/{course.learner.id}/goals"):
            response = client.post(path, data=goal_form(token, owner="learner"))
            assert response.status_code == 404, path
        assert client.post(f"/plan/actions/{action.id}", data={
            "lt": intruder.learner_token, "done": "1"}).status_code == 404
    # The other learner of the same course does not reach it either.
    assert client.post(f"/plan/actions/{action.id}", data={
        "lt": course.learner_tokens[1], "done": "1"}).status_code == 404
    # Learners get 403 on every mentor goal page.
    token = course.learner_token
    assert get(client, f"/mentor/learners/{course.learner.id}/plan", token).status_code == 403
    assert get(client, f"/mentor/goals/{goal.id}/edit", token).status_code == 403
    assert client.post(f"/mentor/actions/{action.id}/done",
                       data={"lt": token, "done": "1"}).status_code == 403
    with pytest.raises(NotFound):
        goals.goal_for_mentor(other.mentor_launch, goal.id)
    with pytest.raises(NotAllowed):
        goals.goal_for_mentor(course.learner_launch(), goal.id)
    db.session.expire_all()
    assert db.session.get(ActionItem, action.id).done_dt is None


def test_every_page_that_shows_the_score_writes_it_alike(client, course, take):
    # One display function (lti_tool.figures): 6.25 is "6.3" on the learner's results, the
    # mentor's learner page, the goal form, the cohort and the CSV, never "6.2".
    answers = careful_answers(5)
    for item, keyed in zip(INSTRUMENT.items_for_dimension("questioning"), (4, 5, 4, 5),
                           strict=True):
        answers[item.id] = 8 - keyed if item.reverse else keyed
    attempt = take(course.activity, course.learner, answers=answers)
    assert attempt.result.dimension_scores["questioning"]["score"] == 6.25
    learner_token = course.learner_tokens[0]
    pages = {
        "results": (f"/questionnaire/attempts/{attempt.id}/results", learner_token, {}),
        "learner page": (f"/mentor/learners/{course.learner.id}", course.mentor_token, {}),
        "goal form": (f"/mentor/learners/{course.learner.id}/goals/new", course.mentor_token,
                      {}),
        "cohort": ("/mentor/", course.mentor_token,
                   {"dimension": "questioning", "min": "1", "max": "10"}),
        "csv": ("/mentor/export.csv", course.mentor_token, {}),
    }
    for name, (path, token, params) in pages.items():
        response = get(client, path, token, **params)
        assert response.status_code == 200, name
        # Launch tokens (in links and forms) are random text: leave them out.
        text = re.sub(r'(lt=|name="lt" value=")[^"&]+', "", response.get_data(as_text=True))
        assert re.search(r"\b6\.3\b", text) and not re.search(r"\b6\.2\b", text), name
