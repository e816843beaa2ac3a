"""Key rotation on both sides: the tool's (`flask keys rotate`) and the platform's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import delete, select

from lti_tool.extensions import db
from lti_tool.identity.models import Platform, utcnow
from lti_tool.lti import keys
from lti_tool.lti.models import KeyPair
from lti_tool.lti.services import SCOPE_NRPS, ServiceClient


def signing_kid(app) -> str:
    with app.app_context():
        return keys.signing_key()[0]


def published_kids(client) -> set[str]:
    return {key["kid"] for key in client.get("/lti/jwks").get_json()["keys"]}


def roster_size(app, platform) -> int:
    """A service call: a fresh client-credentials token (signed with the tool's current key),
    then the course roster from NRPS."""
    with app.app_context():
        row = db.session.scalar(select(Platform).where(Platform.issuer == platform.issuer))
        service = ServiceClient(row)
        service.forget_token([SCOPE_NRPS])
        return sum(len(page.members)
                   for page in service.members_pages(platform.memberships_url("2")))


def test_launches_and_service_calls_keep_working_across_a_tool_key_rotation(
    app, client, start_platform, driver_for
):
    platform = start_platform("toolkeys")
    driver = driver_for(platform)
    learner = driver.user("Learner")["id"]
    before = driver.launch(learner)
    assert "/questionnaire/" in before.landing_url
    members = roster_size(app, platform)
    assert members == 7  # the instructor and six learners
    old_kid = signing_kid(app)

    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--overlap-hours", "48"])
    assert result.exit_code == 0, result.output
    new_kid = signing_kid(app)
    assert new_kid != old_kid and new_kid in result.output
    # Both keys are published during the overlap: platforms that cached the old one, and
    # anything signed just before the rotation, still verify.
    assert published_kids(client) == {old_kid, new_kid}

    # The platform has only seen the old key: the new kid makes it fetch the JWKS again.
    assert roster_size(app, platform) == members
    assert new_kid in platform.tool_keys._keys
    after = driver.launch(learner)
    assert "/questionnaire/" in after.landing_url
    assert driver.open(before).status_code == 200  # sessions from before go on too


def test_rotate_uses_the_configured_overlap(app, monkeypatch):
    monkeypatch.setitem(app.config, "KEY_ROTATION_OVERLAP_HOURS", 5)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "for 5 hour(s)" in result.output
    with app.app_context():
        rotated = db.session.scalar(select(KeyPair).where(KeyPair.retire_after_dt.is_not(None)))
        left = rotated.retire_after_dt - utcnow()
    assert timedelta(hours=4, minutes=59) < left <= timedelta(hours=5)


@pytest.fixture
def own_keys(app, tmp_path, monkeypatch):
    """A KEYS_DIR of the test's own, empty, so retiring keys never touches the session's key."""
    monkeypatch.setitem(app.config, "KEYS_DIR", str(tmp_path / "keys"))
    with app.app_context():
        db.session.execute(delete(KeyPair))
        first = keys.generate_key()
        db.session.commit()
        return first.kid


def test_the_previous_key_is_retired_after_the_overlap(app, client, own_keys):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate", "--overlap-hours", "1"]).exit_code == 0
    new_kid = signing_kid(app)
    assert published_kids(client) == {own_keys, new_kid}
    assert "No key to retire." in runner.invoke(args=["keys", "retire-expired"]).output

    with app.app_context():
        old = db.session.scalar(select(KeyPair).where(KeyPair.kid == own_keys))
        old.retire_after_dt = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # Serving the JWKS retires it on the way.
    assert published_kids(client) == {new_kid}
    with app.app_context():
        old = db.session.scalar(select(KeyPair).where(KeyPair.kid == own_keys))
        assert old.retired_dt is not None
    assert not (Path(app.config["KEYS_DIR"]) / f"{own_keys}.pem").exists()
    assert (Path(app.config["KEYS_DIR"]) / f"{new_kid}.pem").exists()
    listing = runner.invoke(args=["keys", "list"]).output
    assert f"{own_keys}  retired" in listing and "private key deleted" in listing
    assert f"{new_kid}  active" in listing


def test_retire_expired_command(app, own_keys):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate", "--overlap-hours", "0"]).exit_code == 0
    result = runner.invoke(args=["keys", "retire-expired"])
    assert result.exit_code == 0 and f"Retired key {own_keys}." in result.output


def test_a_platform_key_rotation_mid_session_is_followed(app, start_platform, driver_for):
    platform = start_platform("platformkeys")
    driver = driver_for(platform)
    learner = driver.user("Learner")["id"]
    first = driver.launch(learner)  # the tool now caches the platform's key set
    assert "/questionnaire/" in first.landing_url
    old_kid = platform.key.kid

    new_kid = platform.rotate_key()
    assert new_kid != old_kid
    second = driver.launch(learner)
    assert jwt.get_unverified_header(second.id_token)["kid"] == new_kid
    assert "/questionnaire/" in second.landing_url  # unknown kid: the key set was refetched
    assert driver.open(first).status_code == 200

    # An id_token signed with the previous key just before the rotation still verifies.
    attempt = driver.authorize(driver.login(learner))
    claims = jwt.decode(attempt.id_token, options={"verify_signature": False})
    late = platform.previous_keys[0].sign(claims)
    driver.post_launch(attempt, id_token=late)
    assert attempt.landed


def test_a_kid_the_platform_never_published_is_still_refused(app, start_platform, driver_for):
    platform = start_platform("badkid")
    driver = driver_for(platform)
    attempt = driver.launch(driver.user("Learner")["id"],
                            mutate=lambda claims, header: header.update(kid="rotated-away"))
    assert attempt.launch_response.status_code == 400
    assert "has no key" in attempt.launch_response.text
