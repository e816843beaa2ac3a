"""The cohort page with 2,000 learners, its SQL query count, and a 2,000-member roster sync.

    .venv/bin/python bench/cohort.py [--learners 2000] [--runs 20] [--skip-roster]

1. Seeds a course with N learners who all completed the questionnaire (bulk INSERTs straight
   into a fresh database), then GETs the cohort page (and its variants) through the Flask
   test client in this process: median and 90th percentile server milliseconds.
2. Counts the SQL statements of one cohort page for 10 and for 1,000 learners.
3. Starts the development platform with N learners and the tool under gunicorn, records the
   platform's course with its NRPS URL (as the instructor's launch would) and runs
   `flask roster sync --all` (NRPS pages of 100) twice: the first brings in everyone, the
   second finds nothing to change.
DATABASE_URL picks PostgreSQL (its schema is dropped and rebuilt); default: SQLite in a
temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "bench-secret-key-that-is-long-enough-for-the-checks"


def _app(tmp: Path):
    os.environ.update({
        "LTI_TOOL_CONFIG": str(tmp / "none.toml"), "LTI_TOOL_SECRET_KEY": SECRET,
        "LTI_TOOL_TOOL_URL": "http://127.0.0.1:5000", "LTI_TOOL_ENV": "test",
        "LTI_TOOL_KEYS_DIR": str(tmp / "keys"), "LTI_TOOL_LOG_LEVEL": "WARNING",
        # One token serves a whole run, longer than a page keeps a link token.
        "LTI_TOOL_URL_TOKEN_MINUTES": "240",
    })
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'cohort.sqlite3'}"
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lti_tool import create_app
    from lti_tool.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade()
    return app, database_url


def _course(label: str, learners: int, mix: bool) -> tuple[str, int]:
    """A course with a mentor and `learners` seeded learners: (mentor's token, a learner id)."""
    from lti_tool.extensions import db
    from lti_tool.identity.models import (
        Course,
        Deployment,
        Membership,
        Person,
        Platform,
        ResourceLink,
        Role,
        utcnow,
    )
    from lti_tool.lti.session import start_session
    from tests.mentoring.seeding import seed_cohort

    platform = Platform(issuer=f"https://{label}.example.edu", client_id="tool",
                        auth_login_url="https://x/auth", auth_token_url="https://x/token",
                        key_set_url="https://x/certs")
    platform.deployments = [Deployment(deployment_id="1")]
    db.session.add(platform)
    db.session.flush()
    course = Course(platform_id=platform.id, context_id=label, label=label, title=label,
                    roster_synced_dt=utcnow())
    db.session.add(course)
    db.session.flush()
    link = ResourceLink(platform_id=platform.id, course_id=course.id, resource_link_id=label)
    mentor = Person(platform_id=platform.id, sub=f"{label}-mentor", name="Mentor")
    db.session.add_all([link, mentor])
    db.session.flush()
    db.session.add(Membership(course_id=course.id, person_id=mentor.id, role=Role.MENTOR,
                              roles=["Instructor"]))
    db.session.commit()
    seeded = seed_cohort(platform_id=platform.id, course_id=course.id,
                         resource_link_id=link.id, learners=learners, mix=mix, prefix=label)
    token = start_session(mentor, platform.deployments[0].id, course, link, Role.MENTOR,
                          "LtiResourceLinkRequest", {})
    db.session.commit()
    return token, seeded.person_ids[-1]


def _time(client, path: str, params: dict, runs: int) -> tuple[float, float, int]:
    """(median ms, p90 ms, bytes) of GETs after two warm-ups."""
    for _ in range(2):
        client.get(path, query_string=params).get_data()
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, query_string=params)
        size = len(response.get_data())
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], size


def _queries(app, client, token: str) -> int:
    from sqlalchemy import event

    from lti_tool.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine

    def listener(*args):
        seen.append(args[2])

    client.get("/mentor/", query_string={"lt": token}).get_data()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get("/mentor/", query_string={"lt": token}).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def bench_page(learners: int, runs: int) -> None:
    """Seed, then time the cohort page and its variants; count queries at 10 and 1,000."""
    with tempfile.TemporaryDirectory(prefix="dmd-bench-cohort-") as tmp:
        app, database_url = _app(Path(tmp))
        with app.app_context():
            started = time.perf_counter()
            token, learner_id = _course("big", learners, mix=False)
            seeded = time.perf_counter() - started
            small, _ = _course("q10", 10, mix=True)
            thousand, _ = _course("q1000", 1000, mix=True)
        client = app.test_client()
        kind = "PostgreSQL" if "postgresql" in database_url else "SQLite"
        print(f"cohort bench: {learners} learners with completed results, {kind}, "
              f"Flask test client in-process, {runs} runs after 2 warm-ups "
              f"(seeded in {seeded:.1f} s)")
        print(f"{'page':<44} {'median ms':>10} {'p90 ms':>8} {'KiB':>6}")
        variants = [
            ("/mentor/ (landing: by name, page 1)", "/mentor/", {}),
            ("/mentor/?sort=overall&dir=desc", "/mentor/", {"sort": "overall", "dir": "desc"}),
            ("/mentor/?dimension=empathy&min=4&max=8&q=7", "/mentor/",
             {"dimension": "empathy", "min": "4", "max": "8", "q": "7"}),
            ("/mentor/?page=40 (last page)", "/mentor/", {"page": "40"}),
            ("/mentor/statistics", "/mentor/statistics", {}),
            ("/mentor/learners/<id>", f"/mentor/learners/{learner_id}", {}),
            ("/mentor/export.csv", "/mentor/export.csv", {}),
        ]
        for label, path, params in variants:
            median, p90, size = _time(client, path, {"lt": token, **params}, runs)
            print(f"{label:<44} {median:10.1f} {p90:8.1f} {size / 1024:6.0f}")
        print(f"SQL statements per cohort page: 10 learners {_queries(app, client, small)}, "
              f"1,000 learners {_queries(app, client, thousand)}, "
              f"{learners} learners {_queries(app, client, token)}")


def _nrps_course(stack) -> str:
    """The platform's course "2" as its instructor's launch leaves it: with its NRPS URL.

    Written straight into the stack's database (no browser launch), with a launch session
    for the instructor; returns the session's token.
    """
    from sqlalchemy import select

    from lti_tool import create_app
    from lti_tool.extensions import db
    from lti_tool.identity.models import Course, Membership, Person, Platform, Role
    from lti_tool.lti.session import start_session

    os.environ.update(stack.env)
    app = create_app({"SQLALCHEMY_DATABASE_URI": stack.database_url})
    with app.app_context():
        platform = db.session.scalar(select(Platform).where(Platform.issuer == stack.platform_url))
        course = Course(
            platform_id=platform.id, context_id="2", label="DMD101", title="Design Mindset DMD101",
            memberships_url=(f"{stack.platform_url}/mod/lti/services.php/CourseSection/2/"
                             f"bindings/{platform.deployments[0].deployment_id}/memberships"),
        )
        instructor = Person(platform_id=platform.id, sub="3", name="Terry Teacher")
        db.session.add_all([course, instructor])
        db.session.flush()
        db.session.add(Membership(course_id=course.id, person_id=instructor.id,
                                  role=Role.MENTOR, roles=["Instructor"]))
        token = start_session(instructor, platform.deployments[0].id, course, None, Role.MENTOR,
                              "LtiResourceLinkRequest", {})
        db.session.commit()
    return token


def bench_roster(learners: int) -> None:
    """`flask roster sync --all` against the development platform with N learners."""
    from stack import Stack

    started = time.perf_counter()
    stack = Stack(workers=1, learners=learners)
    try:
        print(f"\nroster bench: development platform with {learners} learners + 1 instructor "
              f"(up in {time.perf_counter() - started:.1f} s), NRPS pages of 100, "
              f"{'PostgreSQL' if 'postgres' in stack.database_url else 'SQLite'}")
        token = _nrps_course(stack)
        for label in ("first sync (everyone new)", "second sync (nothing changed)"):
            t0 = time.perf_counter()
            output = stack.flask("roster", "sync", "--all", "--page-size", "100").strip()
            wall = time.perf_counter() - t0
            print(f"{label}: {output}\n    command wall time {wall:.2f} s "
                  "(includes starting Python and the app)")
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            response = stack.http.get(f"{stack.tool_url}/mentor/", params={"lt": token})
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        print(f"cohort page over HTTP (gunicorn, {learners} learners, none started): "
              f"median {statistics.median(times):.1f} ms")
    finally:
        stack.stop()


def main() -> None:
    """Parse options and run both benches."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-roster", action="store_true")
    args = parser.parse_args()
    bench_page(args.learners, args.runs)
    if not args.skip_roster:
        bench_roster(args.learners)


if __name__ == "__main__":
    main()
