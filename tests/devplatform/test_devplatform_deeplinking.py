"""Deep Linking: the request's settings and the checks on the tool's signed response."""

from __future__ import annotations

import time

import pytest
from devplatform_testkit import CLIENT_ID, ISSUER, LEARNER, TEACHER

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
GRADED_LINK = {"type": "ltiResourceLink", "title": "Mindset check-in",
               "url": "http://127.0.0.1:5000/lti/launch?activity=checkin",
               "custom": {"activity": "checkin"},
               "lineItem": {"scoreMaximum": 40, "label": "Check-in", "tag": "checkin"}}


def request_settings(devplatform) -> dict:
    claims = devplatform.build_launch_claims(TEACHER, message_type="LtiDeepLinkingRequest",
                                             nonce="n-1")
    assert LTI + "resource_link" not in claims
    return claims[DL + "deep_linking_settings"]


def response_jwt(fake_tool, settings, items=(GRADED_LINK,), headers=None, **changes) -> str:
    now = int(time.time())
    claims = {"iss": CLIENT_ID, "aud": ISSUER, "iat": now, "exp": now + 300, "nonce": "tool-n",
              LTI + "deployment_id": "1", LTI + "message_type": "LtiDeepLinkingResponse",
              LTI + "version": "1.3.0", DL + "content_items": list(items),
              DL + "data": settings["data"]}
    claims.update(changes)
    return fake_tool.sign({k: v for k, v in claims.items() if v is not None}, headers)


def post_return(web, settings, token):
    path = settings["deep_link_return_url"].removeprefix(ISSUER)
    return web.post(path, data={"JWT": token})


def test_request_settings_are_moodle_like(devplatform):
    settings = request_settings(devplatform)
    assert settings["deep_link_return_url"] == f"{ISSUER}/mod/lti/contentitem_return.php?course=2"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is False and settings["data"]


def test_learners_cannot_deep_link(devplatform):
    from lti_tool.devplatform.claims import LaunchRefused

    with pytest.raises(LaunchRefused):
        devplatform.build_launch_claims(LEARNER, message_type="LtiDeepLinkingRequest", nonce="n")


def test_a_returned_link_becomes_an_activity_with_its_line_item(web, devplatform, fake_tool):
    settings = request_settings(devplatform)

    response = post_return(web, settings, response_jwt(fake_tool, settings))

    assert response.status_code == 200
    assert "Mindset check-in" in response.get_data(as_text=True)
    (added,) = [a for a in devplatform.store.activities("2") if a["title"] == "Mindset check-in"]
    link_id = added["resource_link_id"]
    item = next(i for i in devplatform.gradebook() if i["resourceLinkId"] == link_id)
    assert (item["label"], item["scoreMaximum"], item["tag"]) == ("Check-in", 40, "checkin")
    # Launching the new activity carries its URL, custom values and its own line item.
    claims = devplatform.build_launch_claims(LEARNER, resource_link_id=added["resource_link_id"],
                                             nonce="n")
    assert claims[LTI + "target_link_uri"] == GRADED_LINK["url"]
    assert claims[LTI + "custom"]["activity"] == "checkin"
    assert claims[AGS]["lineitem"] == item["url"]


def test_the_data_works_once(web, devplatform, fake_tool):
    settings = request_settings(devplatform)
    assert post_return(web, settings, response_jwt(fake_tool, settings)).status_code == 200
    assert post_return(web, settings, response_jwt(fake_tool, settings)).status_code == 400


@pytest.mark.parametrize(
    "changes",
    [{DL + "data": "forged"}, {DL + "data": None}, {"aud": "http://elsewhere"},
     {"iss": "other-client"}, {"nonce": None}, {"exp": int(time.time()) - 10},
     {LTI + "deployment_id": "2"}, {LTI + "message_type": "LtiResourceLinkRequest"},
     {LTI + "version": "1.1"}],
    ids=["data", "no-data", "aud", "iss", "no-nonce", "expired", "deployment", "type", "version"],
)
def test_a_wrong_response_is_refused(web, devplatform, fake_tool, changes):
    settings = request_settings(devplatform)
    response = post_return(web, settings, response_jwt(fake_tool, settings, **changes))
    assert response.status_code == 400
    assert "Deep Linking response refused" in response.get_data(as_text=True)


def test_unsigned_kidless_or_plural_responses_are_refused(web, devplatform, fake_tool):
    settings = request_settings(devplatform)
    kidless = response_jwt(fake_tool, settings, headers={})
    assert post_return(web, settings, kidless).status_code == 400
    two = response_jwt(fake_tool, settings, items=(GRADED_LINK, GRADED_LINK))
    assert post_return(web, settings, two).status_code == 400
    foreign = response_jwt(fake_tool, settings, items=({**GRADED_LINK, "url": "http://evil/"},))
    assert post_return(web, settings, foreign).status_code == 400
    assert web.post("/mod/lti/contentitem_return.php?course=2", data={}).status_code == 400
    # None of the refusals used up the request: a correct response still works.
    assert post_return(web, settings, response_jwt(fake_tool, settings)).status_code == 200


def test_no_items_adds_nothing(web, devplatform, fake_tool):
    settings = request_settings(devplatform)
    response = post_return(web, settings, response_jwt(fake_tool, settings, items=()))
    assert response.status_code == 200 and "nothing was added" in response.get_data(as_text=True)
    assert len(devplatform.store.activities("2")) == 1
