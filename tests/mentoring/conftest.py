"""Mentoring fixtures: a course with its activity, people in it, launch tokens, attempts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from lti_tool.extensions import db
from lti_tool.identity.models import (
    Course,
    Deployment,
    Membership,
    MentorKind,
    Person,
    Platform,
    ResourceLink,
    Role,
)
from lti_tool.lti.session import LaunchContext, load_context, start_session
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.models import Attempt
from lti_tool.questionnaire.versions import current_instrument

INSTRUMENT = current_instrument()
_numbers = itertools.count(1)


@dataclass
class Activity:
    """A platform, a deployment, a course and one placement of the tool in it."""

    platform: Platform
    deployment: Deployment
    course: Course
    link: ResourceLink


def careful_answers(keyed: int = 5, **raw: int) -> dict[str, int]:
    """Every item answered: `keyed` as it counts (reverse items mirrored), checks passed."""
    answers = {}
    for item in INSTRUMENT.items:
        if item.is_attention_check:
            answers[item.id] = item.attention_check_expected
        else:
            answers[item.id] = 8 - keyed if item.reverse else keyed
    answers.update(raw)
    return answers


def leaning_answers(high: str | None = None, low: str | None = None, keyed: int = 5
                    ) -> dict[str, int]:
    """Careful answers keyed `keyed`, with dimension `high` answered at the top and `low` at
    the bottom: a clear strength and a clear area to develop, beyond measurement error."""
    answers = careful_answers(keyed)
    for dimension_id, top in ((high, True), (low, False)):
        if dimension_id is None:
            continue
        for item in INSTRUMENT.items_for_dimension(dimension_id):
            answers[item.id] = 7 if top != item.reverse else 1
    return answers


@pytest.fixture
def make_activity(app):
    """Create a course with one activity, on a new platform unless one is given."""

    def make(platform: Platform | None = None, label: str = "DMD101") -> Activity:
        number = next(_numbers)
        if platform is None:
            platform = Platform(
                issuer=f"https://lms{number}.example.edu", client_id="tool",
                auth_login_url="https://lms.example.edu/auth",
                auth_token_url="https://lms.example.edu/token",
                key_set_url="https://lms.example.edu/certs",
            )
            platform.deployments = [Deployment(deployment_id="1")]
            db.session.add(platform)
            db.session.flush()
        course = Course(platform_id=platform.id, context_id=f"c{number}", label=label,
                        title=f"Design course {label}")
        db.session.add(course)
        db.session.flush()
        link = ResourceLink(platform_id=platform.id, course_id=course.id,
                            resource_link_id=f"r{number}", title="Mindset questionnaire")
        db.session.add(link)
        db.session.commit()
        return Activity(platform, platform.deployments[0], course, link)

    return make


@pytest.fixture
def make_person(app):
    """Create a person in an activity's course with a role (learner by default)."""

    def make(activity: Activity, role: Role = Role.LEARNER, active: bool = True,
             **names: str | None) -> Person:
        person = Person(platform_id=activity.platform.id, sub=f"user-{next(_numbers)}", **names)
        db.session.add(person)
        db.session.flush()
        db.session.add(Membership(course_id=activity.course.id, person_id=person.id, role=role,
                                  roles=[role.value], active=active))
        db.session.commit()
        return person

    return make


LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
#: The roles a launch carries for each kind of mentor (Canvas sends a TA both).
KIND_ROLES = {
    MentorKind.LEAD: [LIS + "membership#Instructor"],
    MentorKind.ASSISTANT: [LIS + "membership#Instructor",
                           LIS + "membership/Instructor#TeachingAssistant"],
    MentorKind.SITE_ADMIN: [LIS + "institution/person#Administrator"],
}
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"


@pytest.fixture
def token_for(app):
    """A launch token for a person in an activity, as a launch would create it; a mentor is
    the course's lead unless `kind` says otherwise."""

    def make(activity: Activity, person: Person, role: Role = Role.MENTOR,
             kind: MentorKind = MentorKind.LEAD) -> str:
        claims = {ROLES_CLAIM: KIND_ROLES[kind]} if role is Role.MENTOR else {}
        token = start_session(person, activity.deployment.id, activity.course, activity.link,
                              role, "LtiResourceLinkRequest", claims)
        db.session.commit()
        return token

    return make


@pytest.fixture
def launch_of(token_for):
    """The LaunchContext of a person launching an activity."""

    def make(activity: Activity, person: Person, role: Role = Role.MENTOR) -> LaunchContext:
        return load_context(token_for(activity, person, role))

    return make


@pytest.fixture
def take(launch_of):
    """A learner answers the questionnaire: everything and submit, or only some items."""

    def make(activity: Activity, person: Person, answers: dict[str, int] | None = None,
             submit: bool = True, seconds: float = 60) -> Attempt:
        launch = launch_of(activity, person, Role.LEARNER)
        attempt = delivery.open_attempt(launch)
        answers = careful_answers() if answers is None else answers
        for index, items in enumerate(INSTRUMENT.pages()):
            given = {item.id: answers[item.id] for item in items if item.id in answers}
            if given:
                delivery.save_page(attempt, index, given, seconds)
        if submit:
            delivery.submit(attempt)
        db.session.commit()
        return attempt

    return make
