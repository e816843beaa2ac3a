"""mentoring/scope.py on its own: who a launch reaches. A learner is found only through a
learner membership in the launch's own course; an observer only reaches the learners of that
course whom their launch names, on their own platform."""

from __future__ import annotations

import dataclasses

import pytest

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, MentorKind, Role
from lti_tool.lti.roles import ROLE_SCOPE_MENTOR
from lti_tool.mentoring import scope
from lti_tool.mentoring.scope import NotAllowed, NotFound


@pytest.fixture
def school(make_activity, make_person, launch_of):
    """Two courses on one platform and a course on another, with learners and mentors."""
    here = make_activity()
    there = make_activity(platform=here.platform, label="OTHER")
    elsewhere = make_activity()
    people = {
        "zoe": make_person(here, given_name="Zoe", family_name="Learner"),
        "ann": make_person(here, given_name="Ann", family_name="Learner"),
        "gone": make_person(here, given_name="Gone", family_name="Learner", active=False),
        "mentor": make_person(here, Role.MENTOR, given_name="Mia", family_name="Mentor"),
        "there": make_person(there, given_name="Theo", family_name="Other"),
        "elsewhere": make_person(elsewhere, given_name="Eli", family_name="Far"),
    }
    return here, there, elsewhere, people, launch_of(here, people["mentor"])


def test_a_learner_is_found_only_in_the_launchs_course(school):
    here, _there, _elsewhere, people, launch = school
    assert scope.learner_in_course(launch, people["ann"].id) == people["ann"]
    assert scope.learner_in_course(launch, people["zoe"].id) == people["zoe"]
    for stranger in ("there", "elsewhere", "mentor"):
        with pytest.raises(NotFound) as raised:
            scope.learner_in_course(launch, people[stranger].id)
        assert str(raised.value) == (f"person {people[stranger].id} is not a learner in "
                                     f"course {here.course.id}")
    for missing in (None, 999_999):
        with pytest.raises(NotFound):
            scope.learner_in_course(launch, missing)


def test_a_launch_without_a_course_reaches_nobody(school):
    _here, _there, _elsewhere, people, launch = school
    courseless = dataclasses.replace(launch, course_id=None)
    with pytest.raises(NotFound, match="^this launch has no course$"):
        scope.course_of(courseless)
    with pytest.raises(NotFound):
        scope.learner_in_course(courseless, people["ann"].id)


def test_course_learners_are_the_active_learners_by_name(school):
    here, _there, _elsewhere, people, _launch = school
    assert scope.course_learners(here.course.id) == [people["ann"], people["zoe"]]


def _observer(launch, observed: list[str]):
    return dataclasses.replace(launch, role=Role.OBSERVER, mentor_kind=None,
                               claims={ROLE_SCOPE_MENTOR: observed})


def test_an_observer_reaches_only_the_named_learners_of_the_course(school):
    _here, there, elsewhere, people, launch = school
    # A learner of the same platform in another course, a mentor, and someone with the
    # same sub on another platform: named, yet out of reach.
    twin = people["elsewhere"]
    twin.sub = people["ann"].sub + "-x"
    db.session.commit()
    named = [people[n].sub for n in ("zoe", "ann", "mentor", "there")] + [twin.sub]
    observer = _observer(launch, named)
    assert scope.observed_learners(observer) == [people["ann"], people["zoe"]]
    assert scope.observed_learner(observer, people["zoe"].id) == people["zoe"]
    with pytest.raises(NotFound) as raised:
        scope.observed_learner(observer, people["there"].id)
    assert str(raised.value) == (f"person {people['there'].id} is not observed by this launch "
                                 f"in course {launch.course_id}")
    assert scope.observed_learners(_observer(launch, [])) == []


def test_a_sub_of_another_platform_is_not_observed(school, make_person):
    here, _there, elsewhere, people, launch = school
    # The same sub as a learner here, but on the other platform, enrolled here too.
    double = make_person(elsewhere, given_name="Double", family_name="Sub")
    double.sub = "shared-sub"
    db.session.add(Membership(course_id=here.course.id, person_id=double.id,
                              role=Role.LEARNER, roles=[Role.LEARNER.value], active=True))
    people["ann"].sub = "shared-sub"
    db.session.commit()
    assert scope.observed_learners(_observer(launch, ["shared-sub"])) == [people["ann"]]


@pytest.mark.parametrize("check, allowed, message", [
    (scope.require_mentor, Role.MENTOR, "only a mentor of the course may do this"),
    (scope.require_learner, Role.LEARNER, "only a learner of the course may do this"),
    (scope.require_observer, Role.OBSERVER, "only an observer may do this"),
])
def test_each_role_check_lets_only_its_role_through(school, check, allowed, message):
    launch = school[-1]
    for role in Role:
        attempt = dataclasses.replace(launch, role=role)
        if role is allowed:
            check(attempt)
        else:
            with pytest.raises(NotAllowed) as raised:
                check(attempt)
            assert str(raised.value) == message


def test_only_a_lead_mentor_passes_require_lead(school):
    launch = school[-1]
    scope.require_lead(dataclasses.replace(launch, mentor_kind=MentorKind.LEAD))
    for kind in (MentorKind.ASSISTANT, MentorKind.SITE_ADMIN, None):
        with pytest.raises(NotAllowed,
                           match="^only the course's lead mentor \\(an Instructor\\) may do this$"):
            scope.require_lead(dataclasses.replace(launch, mentor_kind=kind))
    with pytest.raises(NotAllowed):
        scope.require_lead(dataclasses.replace(launch, role=Role.LEARNER,
                                               mentor_kind=MentorKind.LEAD))


def test_mentor_notes_and_answers_are_for_course_mentors_only(school):
    launch = school[-1]
    for kind, sees in ((MentorKind.LEAD, True), (MentorKind.ASSISTANT, True),
                       (MentorKind.SITE_ADMIN, False)):
        mentor = dataclasses.replace(launch, mentor_kind=kind)
        assert scope.sees_mentor_notes(mentor) is sees
        assert scope.sees_answers(mentor, True) is sees
        assert scope.sees_answers(mentor, False) is False
    for role in (Role.LEARNER, Role.OBSERVER, Role.NONE):
        other = dataclasses.replace(launch, role=role, mentor_kind=None)
        assert scope.sees_mentor_notes(other) is False
        assert scope.sees_answers(other, True) is False
