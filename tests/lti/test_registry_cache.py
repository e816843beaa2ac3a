"""The registrations, keys and people the launch keeps or skips writing stay true.

Each process keeps platform registrations and the tool's signing key in memory
(lti/registry.py). "Another process" here is a second application object on the same
database: it shares nothing with the tool's but the database, as a second gunicorn worker
or the `flask` CLI on the same server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person, Platform, Role
from lti_tool.lti import keys, registry, tool_config


@pytest.fixture
def other_process(app):
    """Another process's application on the same database and keys folder."""
    names = ("ENV", "TESTING", "SECRET_KEY", "TOOL_URL", "SQLALCHEMY_DATABASE_URI",
             "KEYS_DIR", "LOG_LEVEL")
    return create_app({name: app.config[name] for name in names})


def _signing_pem(app, platform) -> str:
    with app.app_context():
        record = tool_config.find_platform(platform.issuer, platform.client_id)
        return tool_config.registration_for(record).get_tool_private_key()


def test_a_key_rotation_in_another_process_reaches_this_one(
    app, platform, other_process, monkeypatch
):
    before = _signing_pem(app, platform)  # this process now holds the key in memory
    assert _signing_pem(app, platform) == before

    result = other_process.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    # Past the interval a login may reuse copies for, the new key signs here too.
    monkeypatch.setattr(registry, "LOGIN_CHECK_SECONDS", 0)
    with app.app_context():
        kid, private_pem = keys.signing_key()
    assert kid in result.output
    assert _signing_pem(app, platform) == private_pem != before


def test_a_key_rotation_in_this_process_counts_at_once(app, platform):
    before = _signing_pem(app, platform)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert _signing_pem(app, platform) != before


def test_a_platform_key_set_moved_elsewhere_counts_at_the_next_launch(
    app, driver, other_process
):
    learner = driver.user("Learner")["id"]
    assert driver.launch(learner).landed  # the registration and key set are now kept here
    with other_process.app_context():
        row = db.session.scalar(select(Platform).where(
            Platform.issuer == driver.platform.issuer))
        row.key_set_url = driver.platform.issuer + "/no-keys-here"
        db.session.commit()

    refused = driver.launch(learner)
    assert refused.launch_response.status_code == 502
    assert "no-keys-here" in refused.launch_response.text


def test_a_registration_removed_by_another_process_is_refused_at_the_launch(
    app, driver, other_process
):
    learner = driver.user("Learner")["id"]
    attempt = driver.authorize(driver.login(learner))  # the login read the registration
    result = other_process.test_cli_runner().invoke(args=[
        "platforms", "remove", "--issuer", driver.platform.issuer,
        "--client-id", driver.platform.client_id])
    assert result.exit_code == 0, result.output

    response = driver.post_launch(attempt)
    assert not attempt.landed
    assert response.status_code == 400
    assert "no registration" in response.text


def test_a_learners_changed_name_and_role_are_recorded(app, driver):
    learner = driver.user("Learner")["id"]
    assert driver.launch(learner).landed

    def renamed_instructor(claims, header):
        claims["name"] = "Renamed Person"
        claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]

    attempt = driver.launch(learner, mutate=renamed_instructor)
    assert "/mentor/" in attempt.landing_url  # the new role's landing page
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == str(learner)))
        membership = db.session.scalar(select(Membership).where(
            Membership.person_id == person.id))
        assert person.name == "Renamed Person"
        # Lists sort and search by the stored key: it follows the new name.
        assert person.name_key == "renamed person"
        assert membership.role is Role.MENTOR

    def withheld(claims, header):
        for claim in ("name", "given_name", "family_name"):
            claims.pop(claim, None)

    driver.launch(learner, mutate=withheld)
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == str(learner)))
        assert person.name_key == person.pseudonym.casefold()


def test_an_unchanged_relaunch_keeps_the_stored_claims(app, driver):
    learner = driver.user("Learner")
    driver.launch(learner["id"])
    driver.launch(learner["id"])
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == str(learner["id"])))
        assert person.name == learner["name"]
        assert db.session.scalar(select(Membership.role)) is Role.LEARNER
