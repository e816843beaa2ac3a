"""Role mapping from LTI role URIs and short names."""

import pytest

from lti_tool.identity.models import MentorKind, Role
from lti_tool.lti.roles import mentor_kind, observed_users, role_for

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    "roles, expected",
    [
        ([LIS + "membership#Instructor"], Role.MENTOR),
        ([LIS + "membership/Instructor#TeachingAssistant"], Role.MENTOR),
        ([LIS + "membership#TeachingAssistant"], Role.MENTOR),
        ([LIS + "membership#ContentDeveloper"], Role.MENTOR),
        ([LIS + "membership#Administrator"], Role.MENTOR),
        ([LIS + "system/person#Administrator"], Role.MENTOR),
        ([LIS + "institution/person#Administrator"], Role.MENTOR),
        (["urn:lti:instrole:ims/lis/Administrator"], Role.MENTOR),
        (["urn:lti:instrole:ims/lis/Student"], Role.NONE),
        (["Instructor"], Role.MENTOR),
        (["urn:lti:role:ims/lis/Instructor"], Role.MENTOR),
        ([LIS + "membership#Learner"], Role.LEARNER),
        ([LIS + "membership/Learner#Learner"], Role.LEARNER),
        (["Learner"], Role.LEARNER),
        ([LIS + "membership#Learner", LIS + "membership#Instructor"], Role.MENTOR),
        ([LIS + "institution/person#Student"], Role.NONE),
        ([LIS + "membership#Observer"], Role.NONE),
        (["http://example.com/x#Learner"], Role.NONE),
        ([], Role.NONE),
        ([None, 3], Role.NONE),
        # A value that is not a string is skipped, not the end of the list.
        ([3, LIS + "membership#Learner"], Role.LEARNER),
    ],
)
def test_role_for(roles, expected):
    assert role_for(roles) is expected


OBSERVED = ["user-5"]


@pytest.mark.parametrize(
    "roles, observes, expected",
    [
        # An LIS Mentor (Canvas's observer) observes; it is never a course mentor.
        ([LIS + "membership#Mentor"], OBSERVED, Role.OBSERVER),
        (["urn:lti:role:ims/lis/Mentor"], OBSERVED, Role.OBSERVER),
        (["Mentor"], OBSERVED, Role.OBSERVER),
        ([LIS + "membership/Mentor#Advisor"], OBSERVED, Role.OBSERVER),
        # Observing nobody: no role at all.
        ([LIS + "membership#Mentor"], [], Role.NONE),
        ([LIS + "membership#Mentor"], [""], Role.NONE),
        # Canvas's LTI 1.1 table gives observers NonCreditLearner beside Mentor.
        ([LIS + "membership#Mentor", LIS + "membership/Learner#NonCreditLearner"], OBSERVED,
         Role.OBSERVER),
        (["urn:lti:role:ims/lis/Mentor", "urn:lti:role:ims/lis/Learner/NonCreditLearner"],
         OBSERVED, Role.OBSERVER),
        ([LIS + "membership/Learner#NonCreditLearner"], [], Role.LEARNER),
        # A real learner or teacher who also observes someone keeps their course role.
        ([LIS + "membership#Learner", LIS + "membership#Mentor"], OBSERVED, Role.LEARNER),
        ([LIS + "membership#Instructor", LIS + "membership#Mentor"], OBSERVED, Role.MENTOR),
    ],
)
def test_lis_mentor_is_an_observer_never_a_mentor(roles, observes, expected):
    assert role_for(roles, observes) is expected


def test_observed_users_reads_only_strings_of_the_claim():
    claim = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"
    assert observed_users({claim: ["a", 3, "", None, "b"]}) == ("a", "b")
    assert observed_users({claim: "a"}) == ()
    assert observed_users({}) == ()


@pytest.mark.parametrize(
    "roles, expected",
    [
        ([LIS + "membership#Instructor"], MentorKind.LEAD),
        (["Instructor"], MentorKind.LEAD),
        (["urn:lti:role:ims/lis/Instructor"], MentorKind.LEAD),
        ([LIS + "membership#Administrator"], MentorKind.LEAD),
        # Canvas sends a TA the plain Instructor role beside the sub-role.
        ([LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"],
         MentorKind.ASSISTANT),
        ([LIS + "membership#TeachingAssistant"], MentorKind.ASSISTANT),
        (["urn:lti:role:ims/lis/TeachingAssistant"], MentorKind.ASSISTANT),
        ([LIS + "membership#ContentDeveloper"], MentorKind.ASSISTANT),
        # A site administrator is one only without a mentor role in the course.
        ([LIS + "institution/person#Administrator"], MentorKind.SITE_ADMIN),
        ([LIS + "system/person#SysAdmin"], MentorKind.SITE_ADMIN),
        (["urn:lti:sysrole:ims/lis/SysAdmin"], MentorKind.SITE_ADMIN),
        ([LIS + "system/person#Administrator", LIS + "membership#Instructor"], MentorKind.LEAD),
        (["urn:lti:instrole:ims/lis/Administrator"], MentorKind.SITE_ADMIN),
        # LTI 1.1's sub-role form: Instructor/TeachingAssistant is an assistant.
        (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], MentorKind.ASSISTANT),
        (["urn:lti:role:ims/lis/Instructor"], MentorKind.LEAD),
        ([LIS + "membership#Learner"], None),
        # An institution role that is not an administrator makes no mentor.
        ([LIS + "institution/person#Student"], None),
        ([LIS + "membership#Instructor", LIS + "institution/person#Student"], MentorKind.LEAD),
        ([None, LIS + "membership#Instructor"], MentorKind.LEAD),
        ([], None),
    ],
)
def test_mentor_kind(roles, expected):
    assert mentor_kind(roles) is expected
