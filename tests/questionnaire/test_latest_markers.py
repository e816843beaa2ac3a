"""Attempt.latest and Attempt.latest_submitted follow every way attempts change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, Platform, ResourceLink, utcnow
from lti_tool.questionnaire.models import Attempt, mark_latest

STARTED = utcnow() - timedelta(days=3)


@pytest.fixture
def place(app):
    """A course with two activities and two people: (person ids, link ids, course id)."""
    with app.app_context():
        platform = Platform(issuer="https://markers.example.edu", client_id="tool",
                            auth_login_url="https://x/auth", auth_token_url="https://x/token",
                            key_set_url="https://x/certs")
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, context_id="c", label="C", title="C")
        people = [Person(platform_id=platform.id, sub=sub, name=sub) for sub in ("ann", "bo")]
        db.session.add_all([course, *people])
        db.session.flush()
        links = [ResourceLink(platform_id=platform.id, course_id=course.id,
                              resource_link_id=name) for name in ("one", "two")]
        db.session.add_all(links)
        db.session.commit()
        yield [p.id for p in people], [link.id for link in links], course.id


def _attempt(person_id: int, link_id: int, course_id: int, number: int,
             submitted: bool = False) -> Attempt:
    return Attempt(person_id=person_id, course_id=course_id, resource_link_id=link_id,
                   instrument_id="design_mindset", instrument_version=1, number=number,
                   page_seconds={}, started_dt=STARTED, updated_dt=STARTED,
                   submitted_dt=STARTED if submitted else None)


def _markers() -> dict[tuple[int, int, int], tuple[bool, bool]]:
    db.session.expire_all()
    return {(a.person_id, a.resource_link_id, a.number): (a.latest, a.latest_submitted)
            for a in db.session.scalars(select(Attempt))}


def test_markers_follow_attempts_added_submitted_and_deleted(place):
    (ann, bo), (one, two), course = place
    first = _attempt(ann, one, course, 1, submitted=True)
    db.session.add_all([first, _attempt(bo, one, course, 1), _attempt(ann, two, course, 1)])
    db.session.commit()
    assert _markers() == {(ann, one, 1): (True, True), (bo, one, 1): (True, False),
                          (ann, two, 1): (True, False)}

    # A retake: the new attempt is the latest; the submitted one keeps the result's marker.
    assert first.latest is True
    retake = _attempt(ann, one, course, 2)
    db.session.add(retake)
    db.session.flush()
    # Within the transaction, the loaded first attempt reads its new marker.
    assert (first.latest, retake.latest) == (False, True)
    db.session.commit()
    assert _markers()[(ann, one, 1)] == (False, True)
    assert _markers()[(ann, one, 2)] == (True, False)

    retake.submitted_dt = utcnow()
    db.session.commit()
    assert _markers()[(ann, one, 1)] == (False, False)
    assert _markers()[(ann, one, 2)] == (True, True)
    # Other people and activities are left as they were.
    assert _markers()[(bo, one, 1)] == (True, False)
    assert _markers()[(ann, two, 1)] == (True, False)

    db.session.delete(retake)
    db.session.commit()
    assert _markers()[(ann, one, 1)] == (True, True)


def test_marking_leaves_the_attempts_own_update_time(place):
    (ann, _bo), (one, _two), course = place
    db.session.add(_attempt(ann, one, course, 1, submitted=True))
    db.session.commit()
    db.session.add(_attempt(ann, one, course, 2))
    db.session.commit()
    first = db.session.scalars(select(Attempt).where(Attempt.number == 1)).one()
    assert first.latest is False
    assert first.updated_dt == STARTED


def test_a_bulk_insert_is_marked_by_mark_latest(place):
    (ann, bo), (one, _two), course = place
    rows = [{"person_id": person, "course_id": course, "resource_link_id": one,
             "instrument_id": "design_mindset", "instrument_version": 1, "number": number,
             "started_dt": STARTED, "updated_dt": STARTED, "current_page": 0,
             "page_seconds": {}, "submitted_dt": STARTED if number == 1 else None}
            for person in (ann, bo) for number in (1, 2)]
    db.session.execute(insert(Attempt), rows)
    assert set(_markers().values()) == {(False, False)}
    mark_latest(Attempt.resource_link_id == one)
    assert _markers() == {(ann, one, 1): (False, True), (ann, one, 2): (True, False),
                          (bo, one, 1): (False, True), (bo, one, 2): (True, False)}
