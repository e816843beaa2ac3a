"""Role mapping from LTI role URIs and short names."""

import pytest

from lti_tool.identity.models import Role
from lti_tool.lti.roles import role_for

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    "roles, expected",
    [
        ([LIS + "membership#Instructor"], Role.MENTOR),
        ([LIS + "membership/Instructor#TeachingAssistant"], Role.MENTOR),
        ([LIS + "membership#TeachingAssistant"], Role.MENTOR),
        ([LIS + "membership#ContentDeveloper"], Role.MENTOR),
        ([LIS + "membership#Mentor"], Role.MENTOR),
        ([LIS + "membership#Administrator"], Role.MENTOR),
        ([LIS + "system/person#Administrator"], Role.MENTOR),
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
    ],
)
def test_role_for(roles, expected):
    assert role_for(roles) is expected
