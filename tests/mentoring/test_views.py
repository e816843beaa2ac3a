"""The mentor's pages as a browser sees them: cohort, statistics, learner, CSV, access."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select, update

from lti_tool.extensions import db
from lti_tool.identity.models import Role, utcnow
from lti_tool.questionnaire.models import Attempt, Result
from tests.mentoring.conftest import INSTRUMENT, careful_answers, leaning_answers
from tests.mentoring.seeding import seed_cohort

CHECK = INSTRUMENT.attention_checks[0]


@pytest.fixture
def course(make_activity, make_person, token_for):
    """A course with a mentor and a learner; `token` is the mentor's launch token."""
    activity = make_activity(label="DMD 101 ü")
    activity.mentor = make_person(activity, Role.MENTOR)
    activity.learner = make_person(activity, given_name="Lena", family_name="Learner",
                                   email="lena@example.edu")
    activity.token = token_for(activity, activity.mentor)
    return activity


def get(client, path, token, **params):
    return client.get(path, query_string={"lt": token, **params})


UNPAIRED = [item for item in INSTRUMENT.scored_items
            if not any(item in pair for pair in INSTRUMENT.twin_pairs)]


def complete_many(course, make_person, take, count, keyed=lambda i: (2, 3, 5, 6, 7)[i % 5]):
    # Never all 4s: that is straight-lining, flagged and left out of the figures.
    people = []
    for i in range(count):
        person = make_person(course, given_name=f"P{i}", family_name="Cohort")
        answers = careful_answers(keyed(i))
        # Vary one item per person so that every dimension has some spread (not an item of
        # a reverse pair: strong agreement with both would be flagged as a contradiction).
        for item in UNPAIRED[i % 7::7]:
            answers[item.id] = 1 + (answers[item.id] + i) % 7
        take(course, person, answers)
        people.append(person)
    return people


def mentor_urls(course, attempt_id):
    return [
        "/mentor/", "/mentor/statistics", f"/mentor/learners/{course.learner.id}",
        f"/mentor/learners/{course.learner.id}/attempts/{attempt_id}", "/mentor/export.csv",
    ]


def test_learners_get_403_on_every_mentor_url(client, course, take, token_for):
    attempt = take(course, course.learner)
    token = token_for(course, course.learner, Role.LEARNER)
    for url in mentor_urls(course, attempt.id):
        assert get(client, url, token).status_code == 403, url


def test_every_mentor_url_needs_a_launch(client, course, take):
    attempt = take(course, course.learner)
    for url in mentor_urls(course, attempt.id):
        assert client.get(url).status_code == 401, url
        assert get(client, url, course.token + "x").status_code == 401, url


def test_the_cohort_page_forms_and_links_carry_the_launch_token(client, course):
    page = get(client, "/mentor/", course.token)
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    form = re.search(r'<form class="cohort-filter" method="get".*?</form>', html, re.S).group(0)
    # The page's token, signed as the page was made: the same in the form and every link,
    # and it opens this mentor's session.
    page_token = re.search(r'name="lt" value="([^"]+)"', form).group(1)
    for field in ('name="q"', 'name="status"', 'name="dimension"', 'name="min"', 'name="max"',
                  'name="sort"', 'name="dir"'):
        assert field in form
    links = re.findall(r'href="(/mentor/[^"]*)"', html)
    assert links and all(f"lt={page_token}" in unescape(link) for link in links)
    assert get(client, "/mentor/", page_token).status_code == 200
    assert "Lena Learner" in html
    # Columns a later issue fills: shown as a dash, with a footnote saying so.
    assert "Next session" in html and 'id="later-columns"' in html


def test_filters_sorting_and_pages_work_through_the_form(client, course, make_person, take):
    complete_many(course, make_person, take, 3)
    everyone = get(client, "/mentor/", course.token).get_data(as_text=True)
    assert "<strong>4</strong> learners" in everyone

    started = get(client, "/mentor/", course.token, status="not_started").get_data(as_text=True)
    assert "Lena Learner" in started and "P0 Cohort" not in started

    found = get(client, "/mentor/", course.token, q="p1").get_data(as_text=True)
    assert "P1 Cohort" in found and "Lena Learner" not in found

    by_overall = get(client, "/mentor/", course.token, sort="overall", dir="desc")
    order = re.findall(r"(P\d Cohort|Lena Learner)</a>", by_overall.get_data(as_text=True))
    assert order[-1] == "Lena Learner"


def test_pagination_links_appear_past_fifty(client, course):
    from tests.mentoring.seeding import seed_cohort

    seed_cohort(platform_id=course.platform.id, course_id=course.course.id,
                resource_link_id=course.link.id, learners=60)
    first = get(client, "/mentor/", course.token).get_data(as_text=True)
    assert "page 1 of 2" in first and 'rel="next"' in first
    second = get(client, "/mentor/", course.token, page="2").get_data(as_text=True)
    assert "page 2 of 2" in second and 'rel="prev"' in second
    assert second.count('<tr class="status-') == 11


def test_statistics_withhold_alpha_below_thirty_completed(client, course, make_person, take):
    complete_many(course, make_person, take, 5)
    take(course, course.learner, careful_answers(5, **{CHECK.id: 7}))
    html = get(client, "/mentor/statistics", course.token).get_data(as_text=True)
    assert html.count("not enough responses") == len(INSTRUMENT.dimensions)
    assert 'class="table table-sm item-analysis"' not in html
    # Means, spreads and distributions are shown to mentors from two responses.
    assert html.count('class="chart histogram"') == len(INSTRUMENT.dimensions)
    # The flagged response (Lena's failed attention check) is left out, and the page says so.
    assert "<strong>5</strong> responses" in html
    assert "1 response flagged for its quality was left out" in html
    assert "Reliability figures here come from 5 unflagged responses." in html
    assert "Of 6 completed responses" in html and "Failed attention check: 1" in html
    assert "Lena Learner" in html  # listed among the flagged responses


def test_statistics_from_thirty_unflagged_show_alpha_its_interval_and_items(client, course):
    seeded = seed_cohort(platform_id=course.platform.id, course_id=course.course.id,
                         resource_link_id=course.link.id, learners=30, mix=False)
    html = get(client, "/mentor/statistics", course.token).get_data(as_text=True)
    assert "not enough responses" not in html
    alphas = re.findall(r'<td class="number alpha">([^<]+)</td>', html)
    assert len(alphas) == len(INSTRUMENT.dimensions)
    assert all(re.fullmatch(r"-?\d+\.\d\d", alpha) for alpha in alphas), alphas
    intervals = re.findall(r'<td class="number interval">([^<]+)</td>', html)
    assert all(re.fullmatch(r"-?\d+\.\d\d to -?\d+\.\d\d", text) for text in intervals)
    assert len(intervals) == len(INSTRUMENT.dimensions)
    correlations = re.findall(r'<td class="number correlation">([^<]+)</td>', html)
    assert len(correlations) == len(INSTRUMENT.scored_items)
    # One flagged response takes the unflagged ones below thirty: no alpha then.
    db.session.execute(update(Result).where(Result.attempt_id == db.session.scalar(
        select(Attempt.id).where(Attempt.person_id == seeded.person_ids[0]))).values(
        quality_flags=[{"kind": "too_fast", "page": 0, "seconds": 2.0, "value": 5}],
        flagged=True))
    db.session.commit()
    html = get(client, "/mentor/statistics", course.token).get_data(as_text=True)
    assert html.count("not enough responses") == len(INSTRUMENT.dimensions)
    assert "Reliability figures here come from 29 unflagged responses." in html


def test_the_learner_page_shows_answers_item_by_item(client, course, take):
    answers = careful_answers(6, **{CHECK.id: 1})
    take(course, course.learner, answers)

    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)

    text = unescape(html)
    item = INSTRUMENT.scored_items[0]
    reverse = next(i for i in INSTRUMENT.scored_items if i.reverse)
    assert item.text.get("en") in text
    assert INSTRUMENT.dimension(item.dimension_id).name.get("en") in text
    assert f"{answers[item.id]} · {INSTRUMENT.scale.label(answers[item.id]).get('en')}" in text
    assert reverse.text.get("en") + ' <span class="badge"' in text
    assert "reverse-keyed" in text and "attention check failed" in text
    assert "Attempt 1" in text and "Overall index" in text
    # Below five completed responses there is no course average on the chart.
    assert "Course average (" not in text and "series-1" not in html


def test_the_learner_page_shows_each_score_with_its_error_band_and_reading(client, course,
                                                                           take):
    take(course, course.learner, leaning_answers(high="empathy", low="optimism"))
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)

    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="number score">([^<]+)</td>',
                           html))
    # Keyed 7 → 10.0, keyed 1 → 1.0, keyed 5 → 7.0; SEM 1.6 × √0.3 = 0.88 → ±0.9.
    assert rows["Empathy"] == "10.0 (±0.9)" and rows["Optimism to have an impact"] == "1.0 (±0.9)"
    assert rows["Holistic thinking"] == "7.0 (±0.9)"
    assert len(rows) == len(INSTRUMENT.dimensions)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    assert re.search(r"Strengths:\s+Empathy", text)
    assert re.search(r"Areas to develop:\s+Optimism to have an impact", text)
    assert "provisional" in text and "thick line along each axis" in html


def test_the_learner_page_says_an_even_profile_names_no_strengths(client, course, take):
    take(course, course.learner, careful_answers(5))
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "An even profile: no dimension differs" in unescape(html)
    assert "Strengths:" not in html


def test_the_learner_page_adds_the_course_average_from_five(client, course, make_person, take):
    complete_many(course, make_person, take, 4)
    take(course, course.learner)
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "Course average (5 learners)" in html and "series-1" in html
    assert "Lena Learner: Design Thinking mindset profile" in html


def test_a_learner_in_progress_shows_answers_so_far(client, course, take):
    take(course, course.learner, {item.id: 3 for item in INSTRUMENT.pages()[0]}, submit=False)
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "in progress" in html and "not answered" in html
    assert "Allow another attempt" not in html


def test_the_mentor_can_allow_a_retake_from_the_learner_page(client, course, take):
    first = take(course, course.learner)
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    form = re.search(r'<form class="retake[^"]*" method="post" action="([^"]+)">.*?</form>', html,
                     re.S)
    assert form and 'name="lt" value="' in form.group(0)

    response = client.post(form.group(1), data={"lt": course.token,
                                                "person_id": course.learner.id})
    assert response.status_code == 200

    again = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "Another attempt was allowed" in again and "Allow another attempt" not in again
    db.session.refresh(first)
    assert first.retake_allowed


def test_the_mentor_can_open_a_retake_from_a_date_and_a_bad_date_is_refused(client, course,
                                                                              take):
    first = take(course, course.learner)
    bad = client.post("/questionnaire/retakes", data={
        "lt": course.token, "person_id": course.learner.id, "retake_from": "next spring"})
    assert bad.status_code == 400 and "calendar date" in bad.get_data(as_text=True)
    response = client.post("/questionnaire/retakes", data={
        "lt": course.token, "person_id": course.learner.id, "retake_from": "2099-03-01"})
    assert response.status_code == 200
    assert "from 1 March 2099" in response.get_data(as_text=True)
    db.session.refresh(first)
    assert first.retake_from_dt.isoformat() == "2099-03-01T00:00:00"
    again = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "It opens on 1 March 2099." in again


def test_an_earlier_attempt_can_be_opened(client, course, take, launch_of):
    from lti_tool.questionnaire import delivery

    first = take(course, course.learner, careful_answers(2))
    delivery.allow_retake(launch_of(course, course.mentor), course.learner.id)
    db.session.commit()
    take(course, course.learner, careful_answers(7))
    url = f"/mentor/learners/{course.learner.id}/attempts/{first.id}"
    html = get(client, url, course.token).get_data(as_text=True)
    assert "Answers in attempt 1" in html and "Attempt 1, submitted" in html
    # The table holds the first attempt's own answers, not the latest one's.
    assert shown_answers(html) == careful_answers(2)
    latest = get(client, f"/mentor/learners/{course.learner.id}", course.token)
    assert shown_answers(latest.get_data(as_text=True)) == careful_answers(7)


def shown_answers(html: str) -> dict[str, int]:
    """The answers table of a learner page: item id → the value shown."""
    table = re.search(r'<table class="table table-sm answers">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert table, "no answers table"
    row = r"<tr[^>]*>\s*<td class=\"number\">\d+</td>.*?</td>.*?</td>\s*<td>\s*(\d+) ·"
    values = [int(v) for v in re.findall(row, table.group(1), re.S)]
    assert len(values) == len(INSTRUMENT.items)
    return {item.id: value for item, value in zip(INSTRUMENT.items, values, strict=True)}


def test_the_export_is_a_streamed_csv_with_a_bom_and_a_dated_name(client, course, take):
    take(course, course.learner)
    response = get(client, "/mentor/export.csv", course.token)

    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    day = f"{utcnow():%Y-%m-%d}"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="DMD_101_-cohort-{day}.csv"' in disposition
    assert f"filename*=UTF-8''DMD%20101%20%C3%BC-cohort-{day}.csv" in disposition
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbfName,E-mail,")
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("Lena Learner,lena@example.edu,yes,Completed")


def test_the_export_follows_the_pages_filters(client, course, make_person, take):
    complete_many(course, make_person, take, 2)
    response = get(client, "/mentor/export.csv", course.token, status="not_started")
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("Lena Learner")


@pytest.mark.parametrize("path", ["/mentor/", "/mentor/statistics", "/mentor/sessions/"])
def test_every_mentor_menu_has_the_same_tabs_including_grades(client, course, path):
    html = get(client, path, course.token).get_data(as_text=True)
    menu = html[html.index('class="mentor-nav"'):html.index("</nav>", html.index("mentor-nav"))]
    for tab in ("Learners", "Cohort statistics", "Sessions", "Export CSV", "Grades in the LMS"):
        assert tab in menu, (path, tab)
    assert "/gradebook/?lt=" in menu, path
