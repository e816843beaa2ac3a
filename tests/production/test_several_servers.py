"""Two app servers sharing PostgreSQL and Redis, as production runs: login on one, launch on
the other, answers on both, submit on one, and the score delivered once by grade workers
running beside both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
import requests

from lti_tool.devplatform import ags
from lti_tool.questionnaire.versions import current_instrument
from tests.conftest import TEST_SECRET
from tests.gradebook.conftest import submit
from tests.launch_driver import landed
from tests.processes import ROOT, Gunicorn

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def shared_services(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("several servers share PostgreSQL: this runs in .ci/run's PostgreSQL pass")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


def _worker(app, redis_url: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "LTI_TOOL_CONFIG": str(ROOT / "instance" / "no-such-config.toml"),
        "LTI_TOOL_SECRET_KEY": TEST_SECRET, "LTI_TOOL_TOOL_URL": app.config["TOOL_URL"],
        "LTI_TOOL_ENV": "test", "LTI_TOOL_KEYS_DIR": app.config["KEYS_DIR"],
        "LTI_TOOL_REDIS_URL": redis_url, "LTI_TOOL_LOG_LEVEL": "WARNING",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.Popen([flask, "--app", "lti_tool", "grades", "worker", "--poll", "0.2"],
                            cwd=ROOT, env=env)


def _history(platform, user_id: str) -> list[dict]:
    """Every score the platform accepted for this user, oldest first."""
    return [h for item in platform.gradebook() for h in item.get("history", [])
            if h["userId"] == user_id]


def test_two_servers_one_launch_one_score(app, driver, platform, tool_server, shared_services):
    settings = dict(tool_url=tool_server.url, database_url=app.config["SQLALCHEMY_DATABASE_URI"],
                    keys_dir=app.config["KEYS_DIR"], secret=TEST_SECRET, workers=2,
                    redis_url=shared_services)
    first, second = Gunicorn(**settings), Gunicorn(**settings)
    workers = [_worker(app, shared_services), _worker(app, shared_services)]
    try:
        learner = driver.user("Learner")
        # The platform lives for the whole test session: count only what this test adds.
        before = _history(platform, learner["id"])
        posts_before = len(platform.score_posts())
        attempt = driver.authorize(driver.login(learner["id"], login_url=first.url + "/lti/login"))
        # State and nonce were stored in Redis by the first server.
        assert redis.Redis.from_url(REDIS_URL).keys("dmd:*")
        launched = driver.post_launch(attempt, launch_url=second.url + "/lti/launch")
        assert landed(launched), launched.text[:2000]
        token = attempt.token

        begun = requests.post(first.url + "/questionnaire/begin", data={"lt": token},
                              allow_redirects=False)
        assert begun.status_code == 303, begun.text[:2000]
        attempt_id = int(re.search(r"/attempts/(\d+)/", begun.headers["Location"]).group(1))

        pages = current_instrument().pages()
        servers = [first, second]
        sent = 0
        for index, page in enumerate(pages[:-1]):
            for number, item in enumerate(page):
                server = servers[(index + number) % 2]
                value = item.attention_check_expected or (number % 7) + 1
                saved = requests.post(
                    f"{server.url}/questionnaire/attempts/{attempt_id}/answers",
                    json={"item_id": item.id, "value": value, "page": index, "seconds": 2},
                    headers={"X-Launch-Token": token},
                )
                assert saved.status_code == 200, saved.text
                sent += 1
        last = len(pages) - 1
        form = {"lt": token, "go": "submit", "seconds": "40"}
        for number, item in enumerate(pages[-1]):
            form[f"item-{item.id}"] = str(item.attention_check_expected or (number % 7) + 1)
        submitted = requests.post(
            f"{second.url}/questionnaire/attempts/{attempt_id}/pages/{last}", data=form,
            allow_redirects=False,
        )
        assert submitted.status_code == 303, submitted.text[:2000]

        _wait_until_all_sent(app, 1)
        # Stopped workers finish what they were sending: every POST they made has arrived.
        _stop(workers)
        posts = [p for p in platform.score_posts()[posts_before:]
                 if p["userId"] == learner["id"]]
        assert len(posts) == 1, json.dumps(posts, indent=1)
        assert posts[0]["status"] == 200
        added = _history(platform, learner["id"])[len(before):]
        assert [h["timestamp"] for h in added] == [posts[0]["timestamp"]]
    finally:
        _stop(workers)
        first.stop()
        second.stop()


def _stop(workers: list[subprocess.Popen]) -> None:
    """SIGTERM: each worker ends its current delivery (the POST answered), then exits."""
    for process in workers:
        if process.poll() is None:
            process.terminate()
    for process in workers:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _wait_until_all_sent(app, count: int, seconds: float = 60) -> None:
    """Until the tool holds `count` score records, every one of them sent."""
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.gradebook.models import ScoreRecord, ScoreStatus

    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            states = db.session.execute(
                select(ScoreRecord.status, func.count()).group_by(ScoreRecord.status)).all()
            db.session.remove()
        if dict(states) == {ScoreStatus.SENT: count}:
            return
        assert time.monotonic() < deadline, f"not all sent: {states}"
        time.sleep(0.1)


def test_several_grade_workers_send_each_score_exactly_once(app, driver, platform,
                                                          shared_services, monkeypatch):
    """Three workers on one outbox, the platform slow to answer: whichever worker claims a
    score, it is POSTed once. The platform records every POST it receives, accepted or not,
    so a second POST of the same score counts even though Moodle would refuse it with 409."""
    with platform.store.write() as conn:
        for table in ("score_posts", "grades", "scores"):
            conn.execute(f"DELETE FROM {table}")
    learners = [user for user in platform.users() if user["role"] == "Learner"]
    count = 12
    for learner in learners[:count]:
        submit(driver, learner["id"])
    real_failure = ags._simulated_failure

    def slowly(platform):
        time.sleep(0.3)  # every worker wakes while the first is still sending
        real_failure(platform)

    monkeypatch.setattr(ags, "_simulated_failure", slowly)
    workers = [_worker(app, shared_services) for _ in range(3)]
    try:
        _wait_until_all_sent(app, count)
        _stop(workers)
    finally:
        _stop(workers)
    posts = platform.score_posts()
    sent = Counter((p["userId"], p["timestamp"]) for p in posts)
    assert len(sent) == count, json.dumps(posts, indent=1)
    assert set(sent.values()) == {1}, json.dumps(posts, indent=1)
    assert {p["status"] for p in posts} == {200}
