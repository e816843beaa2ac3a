"""Deep Linking end to end: a mentor adds the activity from the platform, the platform accepts
the tool's signed response, and later scores land in the line item it created."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from tests.conftest import PROFILES
from tests.gradebook.conftest import item_of, launch, submit

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


class _Page(HTMLParser):
    """Forms (action + fields), scripts and inline handlers of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.scripts: list[dict] = []
        self.inline_script = False
        self.inline_handlers: list[str] = []
        self.buttons = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.inline_handlers += [name for name in values if name.startswith("on")]
        if tag == "form":
            self.forms.append({"action": values.get("action"), "fields": {}, **values})
        elif tag == "input" and values.get("name") and self.forms:
            if values.get("type") != "radio" or "checked" in values:
                self.forms[-1]["fields"][values["name"]] = values.get("value") or ""
        elif tag == "script":
            self.scripts.append(values)
        elif tag == "button":
            self.buttons += 1

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.inline_script = True


def deep_linking_launch(driver, instructor):
    """The mentor's Deep Linking launch, landed on the tool's picker."""
    browser = launch(driver, instructor["id"], message_type="LtiDeepLinkingRequest")
    assert urlsplit(browser.landing_url).path == "/gradebook/deep-link"
    return browser


@pytest.mark.parametrize("profile", PROFILES)
def test_a_mentor_adds_the_activity_and_its_scores_land_in_the_new_line_item(
    driver, instructor, learners, deliver, overall_of
):
    platform = driver.platform
    mentor = deep_linking_launch(driver, instructor)
    picker = mentor.get(mentor.landing_url)
    assert picker.status_code == 200
    form = _Page(picker.text).forms[0]
    assert form["fields"]["title"] == "Design Mindset questionnaire"  # the platform's title
    assert form["fields"]["grade_mode"] == "completion"
    assert form["fields"]["score_maximum"] == "100"

    answer = mentor.post("/gradebook/deep-link", {
        "title": "Mindset check-in", "grade_mode": "score", "score_maximum": "50",
    })

    assert answer.status_code == 200, answer.text[:500]
    page = _Page(answer.text)
    [back] = page.forms
    settings_url = (f"{platform.canvas_hosts.school}/courses/2/deep_linking_response"
                    if platform.is_canvas
                    else f"{platform.issuer}/mod/lti/contentitem_return.php?course=2")
    assert back["action"] == settings_url and back["method"] == "post"
    assert "data-autosubmit" in back
    assert page.scripts == [{"src": "/static/js/frame_resize.js", "defer": None},
                            {"src": "/static/js/launch_token.js", "defer": None},
                            {"src": "/static/js/autosubmit.js", "defer": None}]
    assert not page.inline_script and page.inline_handlers == []
    assert page.buttons == 1  # the fallback without JavaScript
    assert mentor.get("/static/js/autosubmit.js").status_code == 200
    claims = jwt.decode(back["fields"]["JWT"], options={"verify_signature": False})
    assert claims["iss"] == platform.client_id and claims["aud"] == [platform.issuer]
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink" and item["title"] == "Mindset check-in"
    assert item["url"] == driver.tool_url + "/lti/launch"
    assert item["lineItem"] == {"scoreMaximum": 50, "label": "Mindset check-in"}
    assert item["custom"] == {"dmd_grade_mode": "score"}

    # The browser's auto-submitting form posts the JWT to the platform.
    confirmation = requests.post(back["action"], data=back["fields"])

    assert confirmation.status_code == 200, confirmation.text[:1000]
    assert "Deep Linking response accepted" in confirmation.text
    [activity] = [a for a in platform.store.activities("2") if a["title"] == "Mindset check-in"]
    assert activity["custom"] == {"dmd_grade_mode": "score"}
    line_item = item_of(platform, activity["resource_link_id"])
    assert line_item["label"] == "Mindset check-in" and line_item["scoreMaximum"] == 50

    # A learner opens the new activity: its launch carries the grade mode and the line item.
    learner = learners[0]
    submit(driver, learner["id"], keyed=6, resource_link_id=activity["resource_link_id"])
    assert deliver().sent == 1

    [score] = item_of(platform, activity["resource_link_id"])["scores"]
    assert score["userId"] == learner["id"]
    assert score["scoreMaximum"] == 50
    assert score["grade"] == pytest.approx(overall_of(platform.sub(learner["id"])) * 5, abs=0.01)
    # Activity 1 (completion, out of 100) got nothing.
    assert item_of(platform)["scores"] == []


def test_the_picker_refuses_a_bad_choice_and_keeps_what_was_typed(driver, instructor):
    mentor = deep_linking_launch(driver, instructor)
    answer = mentor.post("/gradebook/deep-link", {
        "title": "Kept title", "grade_mode": "score", "score_maximum": "0",
    })
    assert answer.status_code == 400
    assert "The maximum score must be a number above 0" in answer.text
    assert 'value="Kept title"' in answer.text
    assert "JWT" not in answer.text


def test_the_picker_is_for_deep_linking_launches_of_mentors(driver, instructor, learners):
    learner = launch(driver, learners[0]["id"])
    assert learner.get("/gradebook/deep-link").status_code == 403
    mentor = launch(driver, instructor["id"])  # an ordinary launch from activity 1
    page = mentor.get("/gradebook/deep-link")
    assert page.status_code == 400
    assert "when an activity is being added" in page.text
    refused = mentor.post("/gradebook/deep-link", {
        "title": "x", "grade_mode": "completion", "score_maximum": "10",
    })
    assert refused.status_code == 400 and "JWT" not in refused.text


def test_the_response_is_signed_with_the_key_the_tool_publishes(driver, instructor):
    mentor = deep_linking_launch(driver, instructor)
    answer = mentor.post("/gradebook/deep-link", {
        "title": "Signed", "grade_mode": "completion", "score_maximum": "10",
    })
    token = _Page(answer.text).forms[0]["fields"]["JWT"]
    keys = requests.get(driver.tool_url + "/lti/jwks").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in keys if k["kid"] == kid]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"],
                        audience=driver.platform.issuer)
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    assert json.dumps(claims[DL + "data"]).startswith('"dl_')
