"""State and nonces live where every worker sees them: a login begun by one process is
finished by another."""

from __future__ import annotations

import http.client
from urllib.parse import urljoin

import pytest
import requests
from markupsafe import escape

from tests.conftest import TEST_SECRET
from tests.launch_driver import landed
from tests.processes import Gunicorn

pytestmark = pytest.mark.slow


@pytest.fixture
def two_processes(app, tool_server):
    # Both answer as TOOL_URL, as two workers behind one address would.
    settings = dict(tool_url=tool_server.url, database_url=app.config["SQLALCHEMY_DATABASE_URI"],
                    keys_dir=app.config["KEYS_DIR"], secret=TEST_SECRET)
    first, second = Gunicorn(**settings), Gunicorn(**settings)
    yield first, second
    first.stop()
    second.stop()


def test_login_on_one_worker_launch_on_the_other(driver, two_processes):
    first, second = two_processes
    user = driver.user("Learner")
    attempt = driver.authorize(driver.login(user["id"], login_url=first.url + "/lti/login"))
    response = driver.post_launch(attempt, launch_url=second.url + "/lti/launch")
    assert landed(response), response.text[:2000]
    page = requests.get(urljoin(first.url, attempt.landing_url))
    assert page.status_code == 200 and escape(user["name"]) in page.text
    # The nonce was consumed by the second process: the first refuses the replay.
    replay = driver.post_launch(attempt, launch_url=first.url + "/lti/launch")
    assert replay.status_code == 400


def test_many_launches_across_two_workers(app, driver, tool_server):
    server = Gunicorn(tool_url=tool_server.url,
                      database_url=app.config["SQLALCHEMY_DATABASE_URI"],
                      keys_dir=app.config["KEYS_DIR"], secret=TEST_SECRET, workers=2)
    try:
        for index in range(12):
            user = driver.user("Learner", index)
            login = driver.login(user["id"], login_url=server.url + "/lti/login")
            attempt = driver.authorize(login)
            response = driver.post_launch(attempt, launch_url=server.url + "/lti/launch")
            assert landed(response), response.text[:2000]
    finally:
        server.stop()


def test_the_production_gunicorn_settings_serve_launches_on_kept_alive_connections(
    app, driver, tool_server
):
    """deploy/gunicorn.conf.py: threaded workers forked from a preloaded app, keep-alive."""
    server = Gunicorn(tool_url=tool_server.url,
                      database_url=app.config["SQLALCHEMY_DATABASE_URI"],
                      keys_dir=app.config["KEYS_DIR"], secret=TEST_SECRET, workers=2,
                      threads=4, production_config=True)
    try:
        for index in range(6):
            user = driver.user("Learner", index)
            login = driver.login(user["id"], login_url=server.url + "/lti/login")
            attempt = driver.authorize(login)
            response = driver.post_launch(attempt, launch_url=server.url + "/lti/launch")
            assert landed(response), response.text[:2000]
        # Two requests over one connection: the server kept it open after the first.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/lti/jwks")
        first = connection.getresponse()
        first.read()
        kept = connection.sock  # None when the server said "Connection: close"
        connection.request("GET", "/lti/jwks")
        second = connection.getresponse()
        second.read()
        assert first.status == second.status == 200
        assert kept is not None and connection.sock is kept
        connection.close()
    finally:
        server.stop()
