"""UNKNOWN_DEPLOYMENTS: a launch from a deployment the tool has not seen yet."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Deployment
from lti_tool.lti.models import LaunchSession

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def new_deployment(claims, header):
    claims[CLAIM + "deployment_id"] = "7"


def deployment_ids(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Deployment.deployment_id)).all())


def test_refuse_is_the_default_and_names_the_command(app, driver, platform):
    assert app.config["UNKNOWN_DEPLOYMENTS"] == "refuse"
    attempt = driver.launch(driver.user("Learner")["id"], mutate=new_deployment)
    response = attempt.launch_response
    assert response.status_code == 403
    assert "Deployment 7 is not registered" in response.text
    assert (f"flask platforms add-deployment --issuer &#39;{platform.issuer}&#39; "
            f"--client-id &#39;{platform.client_id}&#39; --deployment &#39;7&#39;") in response.text
    assert deployment_ids(app) == ["1"]


def test_accept_records_the_deployment_and_goes_on(app, driver, platform, monkeypatch, caplog):
    caplog.set_level("INFO", logger="lti_tool")
    monkeypatch.setitem(app.config, "UNKNOWN_DEPLOYMENTS", "accept")
    attempt = driver.launch(driver.user("Learner")["id"], mutate=new_deployment)
    assert "/questionnaire/" in attempt.landing_url
    assert deployment_ids(app) == ["1", "7"]
    assert [r.getMessage() for r in caplog.records if "new deployment" in r.getMessage()] == [
        f"recorded new deployment '7' of {platform.issuer} (client id {platform.client_id})"]
    with app.app_context():
        session = db.session.scalar(select(LaunchSession))
        assert session.deployment.deployment_id == "7"
        assert session.deployment.platform.issuer == platform.issuer
    # The next launch from it finds the recorded deployment.
    again = driver.launch(driver.user("Learner", 1)["id"], mutate=new_deployment)
    assert "/questionnaire/" in again.landing_url
    assert deployment_ids(app) == ["1", "7"]


def test_accept_still_refuses_a_forged_launch(app, driver, platform, monkeypatch):
    monkeypatch.setitem(app.config, "UNKNOWN_DEPLOYMENTS", "accept")

    def forged(claims, header):
        new_deployment(claims, header)
        header["kid"] = "not-the-platforms"

    attempt = driver.launch(driver.user("Learner")["id"], mutate=forged)
    assert attempt.launch_response.status_code == 400
    assert deployment_ids(app) == ["1"]



def test_a_platform_registered_without_a_deployment_learns_its_first_one(
    app, driver, platform, caplog
):
    # Canvas's Dynamic Registration names no deployment: the app is installed afterwards, and
    # the first signed launch says which. The default policy (refuse) still accepts that one.
    caplog.set_level("INFO", logger="lti_tool")
    with app.app_context():
        for row in db.session.scalars(select(Deployment)).all():
            db.session.delete(row)
        db.session.commit()
    first = driver.launch(driver.user("Learner")["id"], mutate=new_deployment)
    assert "/questionnaire/" in first.landing_url
    assert deployment_ids(app) == ["7"]
    assert [r.getMessage() for r in caplog.records if "new deployment" in r.getMessage()] == [
        f"recorded new deployment '7' of {platform.issuer} (client id {platform.client_id})"]

    # Only the first: a second unknown deployment is refused as usual.
    def another(claims, header):
        claims[CLAIM + "deployment_id"] = "8"

    second = driver.launch(driver.user("Learner", 1)["id"], mutate=another)
    assert second.launch_response.status_code == 403
    assert deployment_ids(app) == ["7"]
