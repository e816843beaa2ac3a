"""Platform Storage on the development platform: Canvas-like by default, Moodle 4.5 when off.

The postMessage answers themselves run in a browser: tests/e2e/test_third_party_cookies.py.
"""

from __future__ import annotations

from devplatform_testkit import LEARNER, posted_fields

STORAGE_SCRIPT = (
    '<script src="/static/platform_storage.js" data-tool-origin="http://127.0.0.1:5000" defer>'
)


def test_logins_offer_platform_storage_by_default(devplatform, web):
    assert devplatform.settings["platform_storage"] is True
    _, fields = posted_fields(web.get(f"/mod/lti/launch.php?id=2&user={LEARNER}"))
    assert fields["lti_storage_target"] == "_parent"


def test_moodle_mode_sends_no_storage_target(devplatform, web):
    devplatform.settings["platform_storage"] = False
    _, fields = posted_fields(web.get(f"/mod/lti/launch.php?id=2&user={LEARNER}"))
    assert "lti_storage_target" not in fields


def test_the_course_page_answers_storage_messages_only_when_offered(devplatform, web):
    page = web.get(f"/course/view.php?id=2&as={LEARNER}").get_data(as_text=True)
    # Answers only the registered tool's origin (checked in the script against this value).
    assert STORAGE_SCRIPT in page
    assert "<script>" not in page
    devplatform.settings["platform_storage"] = False
    page = web.get(f"/course/view.php?id=2&as={LEARNER}").get_data(as_text=True)
    assert "platform_storage.js" not in page


def test_the_storage_script_is_served(web):
    script = web.get("/static/platform_storage.js").get_data(as_text=True)
    for subject in ("lti.capabilities", "lti.put_data", "lti.get_data"):
        assert subject in script
    assert "event.origin !== toolOrigin" in script


def test_settings_switch_platform_storage(devplatform, web):
    web.post("/settings", data={"platform_storage": "0"})
    assert devplatform.settings["platform_storage"] is False
    web.post("/settings", data={"platform_storage": ["0", "1"]})
    assert devplatform.settings["platform_storage"] is True
    assert 'name="platform_storage"' in web.get("/settings").get_data(as_text=True)
