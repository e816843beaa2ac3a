"""The cohort page's filters, sorts and paging in SQL give the rows the Python rules gave.

`reference_rows` is the listing as it was done in Python over every loaded row (before the
page read only its 50 rows from the database): the oracle each SQL query is checked against,
on a cohort with every kind of learner (pseudonyms, names differing only in case, letters
outside ASCII, ties, those who left, retakes, flagged responses).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from lti_tool.identity.models import Role
from lti_tool.mentoring import listing
from lti_tool.mentoring.cohort import LearnerRow, Status, load_cohort
from lti_tool.mentoring.listing import CohortFilter
from tests.mentoring.conftest import INSTRUMENT, careful_answers, leaning_answers
from tests.mentoring.seeding import seed_cohort

CHECK = INSTRUMENT.attention_checks[0]


def reference_matches(wanted: CohortFilter, row: LearnerRow) -> bool:
    """Whether a learner passes every filter (the Python rule)."""
    if not wanted.include_left and not row.active:
        return False
    if wanted.status is Status.COMPLETED and row.status not in (Status.COMPLETED,
                                                                 Status.FLAGGED):
        return False
    if wanted.status not in (None, Status.COMPLETED) and row.status is not wanted.status:
        return False
    if wanted.dimension and (wanted.low is not None or wanted.high is not None):
        value = row.scores.get(wanted.dimension)
        if value is None:
            return False
        if wanted.low is not None and value < wanted.low:
            return False
        if wanted.high is not None and value > wanted.high:
            return False
    if wanted.search:
        needle = wanted.search.casefold()
        if needle not in row.name.casefold() and needle not in (row.email or "").casefold():
            return False
    return True


_STATUS_ORDER = {status: position for position, status in enumerate(Status)}


def reference_sort(rows: list[LearnerRow], sort: str, descending: bool) -> list[LearnerRow]:
    """Sort by name, status, overall, submitted or a dimension; blanks last (the Python rule)."""
    def by_name(row: LearnerRow) -> tuple[str, int]:
        return row.name.casefold(), row.person_id

    if sort == "name":
        return sorted(rows, key=by_name, reverse=descending)
    values = {
        "status": lambda row: (_STATUS_ORDER[row.status], row.answered or 0),
        "overall": lambda row: row.overall,
        "submitted": lambda row: row.submitted_dt,
    }
    value = values.get(sort, lambda row: row.scores.get(sort))
    present = sorted(rows, key=by_name)
    present = sorted((row for row in present if value(row) is not None), key=value,
                     reverse=descending)
    return present + sorted((row for row in rows if value(row) is None), key=by_name)


def reference_rows(launch, wanted: CohortFilter) -> list[int]:
    rows = [row for row in load_cohort(launch).rows if reference_matches(wanted, row)]
    return [row.person_id for row in reference_sort(rows, wanted.sort, wanted.descending)]


@pytest.fixture
def varied(make_activity, make_person, take, launch_of):
    """A course of 140 learners of every kind; returns the mentor's launch."""
    activity = make_activity()
    mentor = make_person(activity, Role.MENTOR, given_name="Mira", family_name="Mentor")
    seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                resource_link_id=activity.link.id, learners=120)
    for _ in range(3):
        make_person(activity)  # no name shared: a pseudonym
    make_person(activity, given_name="anna", family_name="zed")
    make_person(activity, given_name="Anna", family_name="Zed", email="ANNA@uni.example")
    make_person(activity, name="Łukasz Ćwik", email="l_c@uni.example")
    make_person(activity, name="", given_name="", family_name="Émile")
    make_person(activity, given_name="Only", family_name=None, email="100%@uni.example")
    make_person(activity, name="Zoë Left", active=False)
    gone = make_person(activity, given_name="Gone", family_name="Scored", active=False)
    take(activity, gone, careful_answers(6))
    flagged = make_person(activity, given_name="Flo", family_name="Flagged")
    take(activity, flagged, careful_answers(5, **{CHECK.id: 7}))
    strong = make_person(activity, given_name="Lea", family_name="Leaning")
    take(activity, strong, leaning_answers(high="empathy", low="optimism"))
    retaking = make_person(activity, given_name="Rita", family_name="Retake")
    take(activity, retaking, careful_answers(3))
    from lti_tool.extensions import db
    from lti_tool.questionnaire import delivery

    delivery.allow_retake(launch_of(activity, mentor), retaking.id)
    db.session.commit()
    take(activity, retaking, answers={CHECK.id: 2}, submit=False)
    return launch_of(activity, mentor)


SORTS = ["name", "status", "overall", "submitted", "empathy"]
FILTERS: list[dict[str, Any]] = [
    {},
    *({"status": status} for status in Status),
    {"dimension": "empathy", "low": 4, "high": 7},
    {"dimension": "optimism", "low": 6.5},
    {"dimension": "empathy", "high": 5.5},
    {"search": "given1"},
    {"search": "LEARNER"},
    {"search": "anna"},
    {"search": "ł"},
    {"search": "_"},
    {"search": "%"},
    {"search": "example.com"},
    {"status": Status.COMPLETED, "search": "given", "dimension": "empathy", "low": 5},
]


def test_the_statements_kept_per_cohort_are_bounded_and_rebuilt_alike(varied, monkeypatch):
    """Each shape of filter and sort keeps its statements (CohortSql.statement), at most
    MAX_BUILT of them: asking for more shapes drops the oldest, and a dropped shape is built
    again with the same rows."""
    from lti_tool.mentoring import cohort

    monkeypatch.setattr(cohort, "MAX_BUILT", 3)
    kept = cohort.cohort_sql(varied).built
    kept.clear()  # shared by the process: earlier tests' statements would count too
    shapes = [CohortFilter(sort=sort, descending=descending)
              for sort in ("name", "status", "overall") for descending in (False, True)]
    first = [row.person_id for row in listing.select_page(varied, shapes[0]).rows]
    for wanted in shapes:
        listing.select_page(varied, wanted)
        assert len(kept) <= 3
    assert ("rows", shapes[0].shape, listing.PER_PAGE) not in kept
    assert [row.person_id for row in listing.select_page(varied, shapes[0]).rows] == first


def test_every_sort_and_direction_lists_the_rows_in_the_same_order(varied):
    for sort, descending, left in itertools.product(SORTS, (False, True), (False, True)):
        wanted = CohortFilter(sort=sort, descending=descending, include_left=left)
        expected = reference_rows(varied, wanted)
        found = [row.person_id for row in listing.export_rows(varied, wanted, batch=7)]
        assert found == expected, wanted
        page = listing.select_page(varied, CohortFilter(sort=sort, descending=descending,
                                                        include_left=left, page=2))
        assert [row.person_id for row in page.rows] == expected[50:100], wanted


def test_every_filter_keeps_the_same_learners(varied):
    for given, sort in itertools.product(FILTERS, ("name", "overall")):
        wanted = CohortFilter(sort=sort, **given)
        expected = reference_rows(varied, wanted)
        found = [row.person_id for row in listing.export_rows(varied, wanted)]
        assert found == expected, wanted
        page = listing.select_page(varied, wanted)
        assert page.matched == len(expected), wanted
        assert [row.person_id for row in page.rows] == expected[:50], wanted


def test_the_counts_cover_the_whole_cohort_whatever_the_filter(varied):
    every = load_cohort(varied).rows
    for left in (False, True):
        listed = [row for row in every if row.active or left]
        page = listing.select_page(varied, CohortFilter(status=Status.FLAGGED,
                                                        include_left=left))
        assert page.learners == len(listed)
        assert page.left == sum(1 for row in every if not row.active) == 2
        for status in Status:
            assert page.counts.get(status, 0) == sum(1 for row in listed
                                                     if row.status is status), status


def test_a_page_beyond_the_last_shows_the_last(varied):
    expected = reference_rows(varied, CohortFilter())
    page = listing.select_page(varied, CohortFilter(page=99))
    assert (page.page, page.pages) == (3, 3)
    assert [row.person_id for row in page.rows] == expected[100:]
    assert listing.select_page(varied, CohortFilter(search="nobody at all")).pages == 1


def test_the_page_reads_strengths_and_grades_for_its_own_rows(varied):
    page = listing.select_page(varied, CohortFilter(search="Leaning"))
    (row,) = page.rows
    assert page.cohort.strengths(row, "en") == ["Empathy"]
    assert page.cohort.grades_available and row.grade_state is not None


def page_statements(app, client, token: str, **args: str) -> list[str]:
    """The SQL statements of one GET of the cohort page (after a warm-up)."""
    from tests.lti.test_launch_cost import counted_statements

    query = {"lt": token, **args}
    assert client.get("/mentor/", query_string=query).status_code == 200
    with counted_statements(app) as statements:
        response = client.get("/mentor/", query_string=query)
    assert response.status_code == 200
    return list(statements)


VARIANTS: list[dict[str, str]] = [
    {},
    {"sort": "empathy", "dir": "desc", "page": "2"},
    {"status": "completed", "dimension": "empathy", "min": "4", "max": "9", "q": "given"},
    {"sort": "status", "left": "1", "page": "99"},
]


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """The person ids of the rows the cohort builds in Python, in order."""
    from lti_tool.mentoring import cohort

    ids: list[int] = []
    original = cohort._row

    def counting_row(found, states):
        ids.append(found.id)
        return original(found, states)

    monkeypatch.setattr(cohort, "_row", counting_row)
    return ids


def test_the_page_costs_the_same_statements_for_10_and_300_learners(
    app, client, make_activity, make_person, token_for, built
):
    """And builds only the rows it shows: the SQL pages, Python never sees the rest."""
    from lti_tool.extensions import db

    counts: dict[int, list[int]] = {}
    for size in (10, 300):
        activity = make_activity(label=f"S{size}")
        mentor = make_person(activity, Role.MENTOR)
        seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                    resource_link_id=activity.link.id, learners=size, prefix=f"s{size}")
        token = token_for(activity, mentor)
        counts[size] = []
        for args in VARIANTS:
            built.clear()
            counts[size].append(len(page_statements(app, client, token, **args)))
            # Two GETs (a warm-up, then the counted one): 50 rows each at most.
            assert len(built) <= 2 * listing.PER_PAGE, args
        db.session.remove()
    assert counts[10] == counts[300], counts
    # The launch session with its person and course, the programme's settings, the counts,
    # the page's rows, their grade states, their plans (1), the viewer's time zone, and the
    # audit entry.
    assert max(counts[300]) <= 8, counts


def test_the_page_of_a_course_whose_roster_is_fresh_is_one_transaction(
    app, client, make_activity, make_person, token_for
):
    """Nothing to sync, nothing to commit: the page's reads and its audit entry share one
    transaction. Committing after the check cost PostgreSQL a COMMIT, then a second ping and
    BEGIN when the page took its connection from the pool again."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from lti_tool.extensions import db
    from lti_tool.identity.models import utcnow

    activity = make_activity(label="fresh")
    seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                resource_link_id=activity.link.id, learners=5, prefix="fresh")
    activity.course.memberships_url = "https://lms.example.edu/nrps/fresh"
    activity.course.roster_synced_dt = utcnow()
    db.session.commit()
    token = token_for(activity, make_person(activity, Role.MENTOR))
    begun: list[object] = []

    def note(session, transaction, connection):
        begun.append(connection)

    event.listen(Session, "after_begin", note)
    try:
        statements = page_statements(app, client, token)
    finally:
        event.remove(Session, "after_begin", note)
    assert any("audit_entry" in statement for statement in statements), statements
    # The warm-up GET and the counted one: one transaction each.
    assert len(begun) == 2, begun


def test_an_assistant_mentors_page_costs_no_more_statements_than_the_leads(
    app, client, make_activity, make_person, token_for
):
    """An assistant's reach depends on the programme's settings, which the page's scope
    reads too: read once per request, not once for each."""
    from lti_tool.extensions import db
    from lti_tool.identity.models import MentorKind

    activity = make_activity(label="kinds")
    seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                resource_link_id=activity.link.id, learners=5, prefix="kinds")
    lead = token_for(activity, make_person(activity, Role.MENTOR))
    assistant = token_for(activity, make_person(activity, Role.MENTOR), kind=MentorKind.ASSISTANT)
    counts = {}
    for name, token in (("lead", lead), ("assistant", assistant)):
        statements = page_statements(app, client, token)
        counts[name] = sum("programme" in statement for statement in statements)
        db.session.remove()
    assert counts == {"lead": 1, "assistant": 1}, counts


def test_the_statistics_page_costs_the_same_statements_for_10_and_300_learners(
    app, client, make_activity, make_person, token_for
):
    from tests.lti.test_launch_cost import counted_statements

    counts = {}
    for size in (10, 300):
        activity = make_activity(label=f"T{size}")
        mentor = make_person(activity, Role.MENTOR)
        seed_cohort(platform_id=activity.platform.id, course_id=activity.course.id,
                    resource_link_id=activity.link.id, learners=size, prefix=f"t{size}")
        token = token_for(activity, mentor)
        client.get("/mentor/statistics", query_string={"lt": token})
        with counted_statements(app) as statements:
            response = client.get("/mentor/statistics", query_string={"lt": token})
        assert response.status_code == 200
        counts[size] = len(statements)
    assert counts[10] == counts[300], counts


@pytest.mark.parametrize("given", [
    {}, {"status": "completed", "sort": "overall", "dir": "desc"}, {"q": "anna", "left": "1"},
    {"dimension": "empathy", "min": "4", "max": "8", "sort": "empathy"},
])
def test_the_streamed_export_writes_what_the_whole_cohort_export_wrote(varied, client, given):
    from lti_tool.mentoring.export import csv_lines

    response = client.get("/mentor/export.csv", query_string={"lt": varied.link_token, **given})
    assert response.status_code == 200 and response.is_streamed
    wanted = CohortFilter.from_args(given, [d.id for d in INSTRUMENT.dimensions])
    cohort = load_cohort(varied)
    order = reference_rows(varied, wanted)
    by_id = {row.person_id: row for row in cohort.rows}
    expected = "".join(csv_lines(cohort, [by_id[i] for i in order], "en"))
    assert response.get_data(as_text=True) == expected


def test_the_export_reads_its_rows_in_batches_while_it_is_sent(varied, client, monkeypatch,
                                                               built):
    monkeypatch.setattr(listing, "EXPORT_BATCH", 10)
    response = client.get("/mentor/export.csv", query_string={"lt": varied.link_token})
    chunks = iter(response.response)
    header, first = next(chunks), next(chunks)
    assert header.startswith("\ufeffName".encode()) and first
    assert len(built) == 10  # one batch read, not the whole cohort
    assert len(list(chunks)) == len(load_cohort(varied).rows) - 2 - 1  # those who left
    response.close()


def test_the_quality_summary_counts_what_the_rows_say(varied):
    from lti_tool.mentoring.cohort import cohort_sql
    from lti_tool.mentoring.statistics import quality_summary

    summary = quality_summary(cohort_sql(varied))
    completed = [row for row in load_cohort(varied).rows if row.active and row.has_result]
    flagged = sorted((row for row in completed if row.flagged),
                     key=lambda row: row.name.casefold())
    assert summary.completed == len(completed) and summary.flagged == len(flagged) >= 1
    assert [row.person_id for row in summary.learners] == [row.person_id for row in flagged]
    assert summary.attention_checks == sum(
        1 for row in completed if row.quality.failed_attention_checks) >= 1
    assert summary.too_fast == sum(1 for row in completed if row.quality.too_fast_pages)


def test_the_exports_columns_cover_every_version_whatever_the_filter(varied, client,
                                                                     monkeypatch):
    """A dimension the current version dropped still has its column while some result has
    it, even when the filter leaves every such learner out."""
    from dataclasses import replace

    from lti_tool.mentoring import cohort

    current = replace(INSTRUMENT, dimensions=tuple(
        d for d in INSTRUMENT.dimensions if d.id != "optimism"))
    monkeypatch.setattr(cohort, "current_instrument", lambda: current)
    response = client.get("/mentor/export.csv", query_string={
        "lt": varied.link_token, "status": "not_started"})
    header = response.get_data(as_text=True).splitlines()[0]
    assert header.split(",")[-3] == "Optimism to have an impact"


def reference_statistics_sets(launch):
    """The statistics' answer sets worked out in Python over every attempt: per active learner
    the latest submitted attempt; of the current version, scored and unflagged. Also how many
    were of another version, and how many flagged."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.identity.models import Membership
    from lti_tool.questionnaire.models import Attempt

    learners = set(db.session.scalars(select(Membership.person_id).where(
        Membership.course_id == launch.course_id, Membership.role == Role.LEARNER,
        Membership.active.is_(True))))
    latest: dict[int, Attempt] = {}
    for attempt in db.session.scalars(select(Attempt).where(
            Attempt.course_id == launch.course_id,
            Attempt.resource_link_id == launch.resource_link_id)):
        if attempt.person_id in learners and attempt.submitted_dt is not None and (
                attempt.person_id not in latest
                or attempt.number > latest[attempt.person_id].number):
            latest[attempt.person_id] = attempt
    ours = [a for a in latest.values() if a.instrument_key == INSTRUMENT.key]
    scored = [a for a in ours if a.result is not None]
    return ([{answer.item_id: answer.value for answer in a.answers}
             for a in scored if not a.result.flagged],
            len(latest) - len(ours), sum(1 for a in scored if a.result.flagged))


def test_the_statistics_count_each_active_learners_latest_unflagged_result(varied, app):
    from sqlalchemy import select, update

    from lti_tool.extensions import db
    from lti_tool.mentoring.statistics import statistics_view
    from lti_tool.questionnaire.models import Attempt, Result
    from lti_tool.questionnaire.scoring import cohort_statistics

    # Besides those who left, a flagged result and a retake in progress: one latest result
    # of another version.
    seeded = db.session.scalars(select(Attempt).join(Result).where(
        Attempt.course_id == varied.course_id, Attempt.number == 1).order_by(Attempt.id)).all()
    db.session.execute(update(Attempt).where(Attempt.id == seeded[0].id)
                       .values(instrument_version=INSTRUMENT.version + 98))
    db.session.commit()
    sets, other_versions, flagged = reference_statistics_sets(varied)
    assert other_versions == 1 and flagged >= 1 and len(sets) > 90
    expected = cohort_statistics(INSTRUMENT, sets, min_n=2)
    with app.test_request_context():
        view = statistics_view(varied, caseload_only=False, locale="en")
    assert view.responses == expected.n and view.flagged_excluded == flagged
    assert view.excluded == expected.excluded + other_versions
    assert [(figures.n, figures.mean_text, figures.sd_text) for figures in view.dimensions] == [
        (entry.n, f"{entry.mean:.1f}", f"{entry.sd:.2f}") for entry in expected.dimensions]


def test_statements_built_once_serve_each_launch_its_own_learners(
    client, make_activity, make_person, take, token_for
):
    """The cohort's statements are built once per shape and shared by every launch; each page
    still lists the learners of its own course whom its own mentor reaches, whichever launch
    came before it."""
    from lti_tool.extensions import db
    from lti_tool.identity.models import MentorKind
    from lti_tool.mentoring.programme.models import (
        AssignmentSource,
        CaseloadMode,
        MentorAssignment,
        ProgrammeSettings,
    )

    first, second, third = (make_activity(label=label) for label in ("A", "B", "C"))
    ada, abe = (make_person(first, name=name) for name in ("Ada Amber", "Abe Ash"))
    bea = make_person(second, name="Bea Birch")
    cal = make_person(third, name="Cal Cedar")
    take(first, ada)
    take(second, bea)
    lead_a, assistant_a = make_person(first, Role.MENTOR), make_person(first, Role.MENTOR)
    lead_b, assistant_c = make_person(second, Role.MENTOR), make_person(third, Role.MENTOR)
    for activity, assistant, learner in ((first, assistant_a, abe), (third, assistant_c, cal)):
        db.session.add_all([
            ProgrammeSettings(course_id=activity.course.id, mode=CaseloadMode.ASSIGNED),
            MentorAssignment(course_id=activity.course.id, mentor_id=assistant.id,
                             learner_id=learner.id, source=AssignmentSource.HAND),
        ])
    db.session.commit()
    tokens = {
        "lead A": token_for(first, lead_a),
        "assistant A": token_for(first, assistant_a, kind=MentorKind.ASSISTANT),
        "lead B": token_for(second, lead_b),
        "assistant C": token_for(third, assistant_c, kind=MentorKind.ASSISTANT),
    }
    expected = {"lead A": {"Ada Amber", "Abe Ash"}, "assistant A": {"Abe Ash"},
                "lead B": {"Bea Birch"}, "assistant C": {"Cal Cedar"}}
    everyone = set().union(*expected.values())
    for who in ("lead A", "lead B", "assistant A", "assistant C", "lead A", "assistant A"):
        for args in ({}, {"sort": "overall"}, {"status": "completed"}):
            page = client.get("/mentor/", query_string={"lt": tokens[who], **args})
            assert page.status_code == 200
            listed = {name for name in everyone if name in page.get_data(as_text=True)}
            wanted = expected[who]
            if args.get("status"):
                wanted = wanted & {"Ada Amber", "Bea Birch"}
            assert listed == wanted, (who, args)
    # Asked for the whole course, an assistant's cohort still holds only their caseload: the
    # reach is part of each statement's shape, not only of the page's default view.
    from lti_tool.lti.session import load_context

    for who in ("assistant A", "lead A", "assistant C", "lead B"):
        shown = listing.select_page(load_context(tokens[who]), CohortFilter(),
                                    caseload_only=False)
        assert {row.name for row in shown.rows} == expected[who], who
