"""The cohort service: each learner's state, filters, sorting, paging, CSV, and query count."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from sqlalchemy import event, select

from lti_tool.extensions import db
from lti_tool.identity.models import Role
from lti_tool.mentoring import cohort as cohorts
from lti_tool.mentoring import listing
from lti_tool.mentoring.cohort import Status, load_cohort
from lti_tool.mentoring.export import BOM, csv_lines
from lti_tool.mentoring.listing import CohortFilter
from tests.mentoring.conftest import INSTRUMENT, careful_answers, leaning_answers
from tests.mentoring.seeding import seed_cohort

CHECK = INSTRUMENT.attention_checks[0]
DIMENSIONS = [dimension.id for dimension in INSTRUMENT.dimensions]


@pytest.fixture
def world(make_activity, make_person, launch_of):
    """A course with a mentor; `launch()` is the mentor's LaunchContext."""
    activity = make_activity()
    mentor = make_person(activity, Role.MENTOR, given_name="Mira", family_name="Mentor")
    activity.mentor = mentor
    activity.launch = lambda: launch_of(activity, mentor)
    return activity


def rows_by_name(world) -> dict[str, cohorts.LearnerRow]:
    return {row.name: row for row in load_cohort(world.launch()).rows}


def test_each_learner_has_a_status(world, make_person, take):
    names = {}
    for given in ("Ann", "Ben", "Cleo", "Dev"):
        names[given] = make_person(world, given_name=given, family_name="Test")
    take(world, names["Ben"], answers=careful_answers(4), submit=False)
    take(world, names["Cleo"], answers=careful_answers(6))
    take(world, names["Dev"], answers=careful_answers(6, **{CHECK.id: 7}))

    rows = rows_by_name(world)

    assert set(rows) == {"Ann Test", "Ben Test", "Cleo Test", "Dev Test"}  # not the mentor
    assert rows["Ann Test"].status is Status.NOT_STARTED
    assert rows["Ann Test"].status_text() == "Not started"
    ben = rows["Ben Test"]
    assert (ben.status, ben.answered, ben.total) == (Status.IN_PROGRESS, 46, 46)
    assert ben.status_text() == "In progress: 46 of 46" and ben.overall is None
    cleo = rows["Cleo Test"]
    assert cleo.status is Status.COMPLETED and cleo.overall == pytest.approx(8.5)
    # Dates as the other pages write them ("3 Dec 2026"), not ISO.
    day = cleo.submitted_dt
    assert cleo.status_text() == f"Completed on {day.day} {day:%b %Y}"
    assert set(cleo.scores) == set(DIMENSIONS)
    dev = rows["Dev Test"]
    assert dev.status is Status.FLAGGED and dev.quality.failed_attention_checks == (CHECK.id,)
    assert dev.status_text().endswith("response quality flagged")


def test_strengths_are_read_by_evidence_with_the_results_version(world, make_person, take):
    even = make_person(world, given_name="Eve", family_name="Even")
    leaning = make_person(world, given_name="Lea", family_name="Leaning")
    take(world, even, answers=careful_answers(6))
    take(world, leaning, answers=leaning_answers(high="empathy", low="optimism"))
    cohort = load_cohort(world.launch())
    rows = {row.name: row for row in cohort.rows}

    assert cohort.strengths(rows["Eve Even"], "en") == []
    assert cohort.strengths(rows["Lea Leaning"], "en") == ["Empathy"]
    assert cohort.strengths(rows["Lea Leaning"], "pl") == ["Empatia"]
    assert rows["Lea Leaning"].result_instrument == "design_mindset@2"


def test_the_status_counts_add_up_to_the_roster(world, make_person, take, client, token_for):
    learners = [make_person(world, given_name=f"L{n}", family_name="Count") for n in range(5)]
    take(world, learners[0], answers=careful_answers(6))
    take(world, learners[1], answers=careful_answers(6, **{CHECK.id: 7}))  # flagged
    take(world, learners[2], answers=careful_answers(4), submit=False)
    page = listing.select_page(world.launch(), CohortFilter())

    assert dict(page.summary) == {Status.NOT_STARTED: 2, Status.IN_PROGRESS: 1,
                                  Status.COMPLETED: 2}
    assert sum(count for _, count in page.summary) == page.learners == 5
    assert page.flagged == 1
    html = client.get("/mentor/", query_string={
        "lt": token_for(world, world.mentor)}).get_data(as_text=True)
    assert '<strong data-count="completed">2</strong>' in html
    assert "1 with flagged response quality" in html
    assert '<strong data-count="flagged">' not in html


def test_in_progress_counts_the_answers_given(world, make_person, take):
    learner = make_person(world, given_name="Half")
    first_page = {item.id: 4 for item in INSTRUMENT.pages()[0]}
    take(world, learner, answers=first_page, submit=False)
    row = load_cohort(world.launch()).rows[0]
    assert (row.answered, row.total) == (len(first_page), len(INSTRUMENT.items))


def test_a_retake_in_progress_keeps_the_earlier_result(world, make_person, take, launch_of):
    from lti_tool.questionnaire import delivery

    learner = make_person(world, given_name="Rita")
    take(world, learner, answers=careful_answers(7))
    delivery.allow_retake(world.launch(), learner.id)
    db.session.commit()
    take(world, learner, answers={CHECK.id: 2}, submit=False)

    row = load_cohort(world.launch()).rows[0]

    assert row.status is Status.IN_PROGRESS and row.latest_number == 2
    assert row.overall == pytest.approx(10.0) and row.result_attempt_id != row.latest_attempt_id


def test_attempts_in_another_activity_do_not_count(world, make_person, take):
    from lti_tool.identity.models import ResourceLink

    learner = make_person(world, given_name="Other")
    other = ResourceLink(platform_id=world.platform.id, course_id=world.course.id,
                         resource_link_id="other-activity")
    db.session.add(other)
    db.session.commit()
    elsewhere = type(world)(world.platform, world.deployment, world.course, other)
    take(elsewhere, learner)
    assert load_cohort(world.launch()).rows[0].status is Status.NOT_STARTED


def test_learners_who_left_are_hidden_unless_asked_for(world, make_person):
    make_person(world, given_name="Stay")
    make_person(world, given_name="Gone", active=False)
    page = listing.select_page(world.launch(), CohortFilter())
    assert [row.name for row in page.rows] == ["Stay"] and page.left == 1

    page = listing.select_page(world.launch(), CohortFilter(include_left=True))
    assert [row.name for row in page.rows] == ["Gone", "Stay"] and page.learners == 2


@pytest.fixture
def scored(world, make_person, take):
    """Five learners: keyed 3, 5 and 7 completed, one flagged, one not started."""
    for given, keyed in (("Low", 3), ("Mid", 5), ("High", 7)):
        take(world, make_person(world, given_name=given, family_name="Scorer",
                                email=f"{given.lower()}@uni.example"), careful_answers(keyed))
    take(world, make_person(world, given_name="Flag", family_name="Scorer"),
         careful_answers(5, **{CHECK.id: 7}))
    make_person(world, given_name="Zed", family_name="Nobody")
    return world.launch()


def names(launch, **wanted) -> list[str]:
    """The names the page lists (every page), in its order."""
    return [row.name for row in listing.export_rows(launch, CohortFilter(**wanted))]


def test_filter_by_status(scored):
    assert names(scored, status=Status.NOT_STARTED) == ["Zed Nobody"]
    assert names(scored, status=Status.FLAGGED) == ["Flag Scorer"]
    # "Completed" includes completed responses whose quality was flagged.
    assert names(scored, status=Status.COMPLETED) == [
        "Flag Scorer", "High Scorer", "Low Scorer", "Mid Scorer"]


def test_filter_by_a_dimensions_score_range(scored):
    # Keyed 3 → 4.0, keyed 5 → 7.0, keyed 7 → 10.0 on every dimension.
    assert names(scored, dimension="empathy", low=6, high=8) == ["Flag Scorer", "Mid Scorer"]
    assert names(scored, dimension="optimism", low=9.5) == ["High Scorer"]
    assert names(scored, dimension="optimism", high=4) == ["Low Scorer"]


def test_search_by_name_or_email_ignores_case(scored):
    assert names(scored, search="scorer") == [
        "Flag Scorer", "High Scorer", "Low Scorer", "Mid Scorer"]
    assert names(scored, search="HIGH@UNI") == ["High Scorer"]
    assert names(scored, search="nobody-at-all") == []


def test_search_finds_a_pseudonym(world, make_person):
    hidden = make_person(world)  # no name shared
    assert names(world.launch(), search=hidden.pseudonym.lower()) == [hidden.pseudonym]


def test_search_takes_wildcards_and_the_escape_character_literally(world, make_person):
    for name in ("Ann_Lee", "Annxlee", "Per%Cent", "Percent", "A/B Tester", "AB Tester"):
        make_person(world, name=name)
    launch = world.launch()
    assert names(launch, search="n_l") == ["Ann_Lee"]
    assert names(launch, search="r%c") == ["Per%Cent"]
    assert names(launch, search="a/b") == ["A/B Tester"]
    # The page runs its own statements: the same rule there.
    for search, expected in (("n_l", ["Ann_Lee"]), ("r%c", ["Per%Cent"]),
                             ("a/b", ["A/B Tester"])):
        page = listing.select_page(launch, CohortFilter(search=search))
        assert [row.name for row in page.rows] == expected


def test_names_sort_and_search_as_python_casefolds_them_on_either_database(world, make_person):
    """ß casefolds to "ss" in Python; PostgreSQL's lower() keeps it, and would put "Strasse
    Zed" first (s < ß). The stored name key makes both databases agree with Python."""
    for name in ("Strasse Zed", "Straße Able", "Ärger Öl"):
        make_person(world, name=name)
    expected = sorted(["Strasse Zed", "Straße Able", "Ärger Öl"], key=str.casefold)
    assert expected == ["Straße Able", "Strasse Zed", "Ärger Öl"]
    assert names(world.launch()) == expected
    assert names(world.launch(), search="STRASSE") == ["Straße Able", "Strasse Zed"]


def test_sorting_keeps_blanks_last_in_both_directions(scored):
    ascending = names(scored, sort="overall")
    descending = names(scored, sort="overall", descending=True)
    assert ascending == ["Low Scorer", "Flag Scorer", "Mid Scorer", "High Scorer", "Zed Nobody"]
    assert descending == ["High Scorer", "Flag Scorer", "Mid Scorer", "Low Scorer", "Zed Nobody"]
    assert names(scored, sort="empathy", descending=True)[0] == "High Scorer"
    assert names(scored, sort="status")[0] == "Zed Nobody"
    assert names(scored, sort="name", descending=True)[0] == "Zed Nobody"


def test_pages_of_fifty(world):
    seed_cohort(platform_id=world.platform.id, course_id=world.course.id,
                resource_link_id=world.link.id, learners=120)
    launch = world.launch()

    first = listing.select_page(launch, CohortFilter())
    last = listing.select_page(launch, CohortFilter(page=3))
    beyond = listing.select_page(launch, CohortFilter(page=99))

    assert (len(first.rows), first.pages, first.matched) == (50, 3, 120)
    assert len(last.rows) == 20 and beyond.page == 3
    assert first.counts[Status.NOT_STARTED] == 12 and first.counts[Status.IN_PROGRESS] == 12
    seen = {row.person_id for p in (1, 2, 3)
            for row in listing.select_page(launch, CohortFilter(page=p)).rows}
    assert len(seen) == 120


def test_the_filter_reads_query_arguments_leniently():
    wanted = CohortFilter.from_args(
        {"status": "completed", "dimension": "empathy", "min": "3.5", "max": "99", "q": " ann ",
         "sort": "overall", "dir": "desc", "page": "2", "left": "1"}, DIMENSIONS)
    assert wanted == CohortFilter(Status.COMPLETED, "empathy", 3.5, 10.0, "ann", "overall",
                                  True, 2, True)
    assert wanted.query_args(page=1) == {
        "status": "completed", "dimension": "empathy", "min": "3.5", "max": "10", "q": "ann",
        "sort": "overall", "dir": "desc", "left": "1"}
    junk = CohortFilter.from_args(
        {"status": "done", "dimension": "nope", "min": "x", "max": "nan", "sort": "password",
         "page": "-4"}, DIMENSIONS)
    assert junk == CohortFilter()


def test_csv_has_a_bom_a_header_and_one_line_per_learner(scored, world, make_person):
    make_person(world, given_name="=HYPERLINK(\"http://evil\")", family_name="")
    cohort = load_cohort(world.launch())
    text = "".join(csv_lines(cohort, listing.export_rows(world.launch(), CohortFilter()), "en"))

    assert text.startswith(BOM)
    table = list(csv.reader(io.StringIO(text[1:])))
    header, rows = table[0], table[1:]
    assert header[:7] == ["Name", "E-mail", "In course", "Status", "Answered", "Submitted (UTC)",
                          "Overall"]
    assert header[7:17] == [d.name.get("en") for d in INSTRUMENT.dimensions]
    assert len(rows) == 6
    high = next(row for row in rows if row[0] == "High Scorer")
    assert high[1:4] == ["high@uni.example", "yes", "Completed"] and high[6] == "10.0"
    assert high[7:17] == ["10.0"] * 10
    # A name that looks like a formula is written as text.
    assert any(row[0].startswith("'=HYPERLINK") for row in rows)


def test_the_grade_column_shows_the_gradebooks_own_states(world, make_person, take):
    """The real gradebook, no stand-in: a score waiting, one the platform refused (with its
    answer), and a learner with none."""
    from lti_tool.gradebook.models import ScoreRecord, ScoreStatus

    waiting = make_person(world, given_name="Waiting", family_name="Graded")
    refused = make_person(world, given_name="Refused", family_name="Graded")
    make_person(world, given_name="Without", family_name="Graded")
    take(world, waiting)
    take(world, refused)
    record = db.session.scalar(select(ScoreRecord).where(ScoreRecord.person_id == refused.id))
    record.status, record.last_error = ScoreStatus.FAILED, "HTTP 500: down"
    db.session.commit()

    cohort = load_cohort(world.launch())
    rows = {row.name: row for row in cohort.rows}

    assert cohort.grades_available
    assert cohorts.grade_state_text(rows["Waiting Graded"].grade_state) == "Pending"
    assert cohorts.grade_state_detail(rows["Waiting Graded"].grade_state) is None
    assert cohorts.grade_state_text(rows["Refused Graded"].grade_state) == "Failed"
    assert cohorts.grade_state_detail(rows["Refused Graded"].grade_state) == "HTTP 500: down"
    assert rows["Without Graded"].grade_state is None
    assert cohorts.grade_state_text(None) == "—"


def test_a_launch_without_an_activity_has_no_grade_column(world, make_person, take):
    take(world, make_person(world, given_name="Graded"))
    launch = dataclasses.replace(world.launch(), resource_link_id=None)
    cohort = load_cohort(launch)
    assert not cohort.grades_available and cohort.rows[0].grade_state is None


def count_queries(app, client, token: str) -> int:
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get("/mentor/", query_string={"lt": token, "sort": "overall"})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(seen)


def test_the_page_takes_the_same_number_of_queries_for_10_and_1000_learners(
    app, client, make_activity, make_person, token_for
):
    counts = {}
    for size in (10, 1000):
        activity = make_activity(label=f"Q{size}")
        mentor = make_person(activity, Role.MENTOR)
        seeded = seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                             resource_link_id=activity.link.id, learners=size)
        assert seeded.completed and seeded.in_progress and seeded.not_started
        token = token_for(activity, mentor)
        count_queries(app, client, token)  # warm up
        counts[size] = count_queries(app, client, token)
        db.session.remove()
    assert counts[10] == counts[1000], counts
    assert counts[10] <= 15, counts  # a handful: launch, roster, learners, attempts, grades, plans


def test_a_dimension_only_an_older_version_has_still_reaches_the_export(world, make_person,
                                                                       take):
    from dataclasses import replace

    from lti_tool.mentoring.export import csv_lines

    take(world, make_person(world, given_name="Old", family_name="Version"),
         answers=careful_answers(6))
    cohort = load_cohort(world.launch())
    # A current version without "optimism": the learner's result still has it.
    current = replace(cohort.instrument, dimensions=tuple(
        d for d in cohort.instrument.dimensions if d.id != "optimism"))
    cohort = replace(cohort, instrument=current)
    assert cohort.dimension_ids[-1] == "optimism"
    header, line = list(csv_lines(cohort, cohort.rows, "en"))[:2]
    assert header.rstrip().split(",")[-3] == "Optimism to have an impact"
    assert line.split(",")[-3] == "8.5"  # keyed 6: 1 + 9 × 5 / 6
