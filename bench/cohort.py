"""The cohort page, statistics and CSV export of 2,000 and 10,000 learners; roster syncs.

    .venv/bin/python bench/cohort.py [--learners 2000 10000] [--runs 7] [--skip-roster]
        [--skip-http]

1. Seeds a course per size (and one of 10 learners) with bulk INSERTs straight into a fresh
   database: 1 in 10 learners has not started, 1 in 10 is halfway, the rest completed; then
   ANALYZE, as autovacuum would soon after such a load.
   Counts the SQL statements of one cohort page for 10 learners and for each size.
2. In-process (Flask test client): the cohort page and its variants, the statistics page
   and the CSV export: milliseconds median (min-max), rows rendered, statements; the
   export's tracemalloc peak (flat when it streams).
3. Over HTTP: the tool under gunicorn with deploy/gunicorn.conf.py (1 worker), the cohort
   page and the export (with the worker's resident memory before and at its peak).
4. Roster: the development platform with N learners and the tool under gunicorn; the course
   recorded with its NRPS URL (as the instructor's launch would) and `flask roster sync
   --all` (NRPS pages of 100) run twice: the first brings in everyone, the second finds
   nothing to change; then the cohort page over HTTP.
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


def spread(values: list[float], digits: int = 1) -> str:
    """median (min-max)."""
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


def _rows_rendered(html: str) -> int:
    """Learner rows in a cohort page's table."""
    return html.count('<tr class="status-')


def _time(client, path: str, params: dict, runs: int) -> tuple[list[float], bytes]:
    """Milliseconds of `runs` GETs after two warm-ups, and the last response's body."""
    for _ in range(2):
        client.get(path, query_string=params).get_data()
    times = []
    body = b""
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, query_string=params)
        body = response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times, body


def _queries(app, client, token: str, path: str = "/mentor/",
             params: dict | None = None) -> int:
    """SQL statements of one GET (after a warm-up), every statement on the tool's engine."""
    from sqlalchemy import event

    from lti_tool.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine

    def listener(*args):
        seen.append(args[2])

    query = {"lt": token, **(params or {})}
    client.get(path, query_string=query).get_data()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(path, query_string=query).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def _export_peak(client, token: str) -> tuple[float, int]:
    """(tracemalloc peak MiB, bytes) of one CSV export read to its end in this process."""
    import tracemalloc

    tracemalloc.start()
    try:
        response = client.get("/mentor/export.csv", query_string={"lt": token})
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return tracemalloc.get_traced_memory()[1] / 2**20, size
    finally:
        tracemalloc.stop()


VARIANTS = [
    ("/mentor/ (by name, page 1)", "/mentor/", {}),
    ("/mentor/?sort=overall&dir=desc", "/mentor/", {"sort": "overall", "dir": "desc"}),
    ("/mentor/?dimension=empathy&min=4&max=8&q=7", "/mentor/",
     {"dimension": "empathy", "min": "4", "max": "8", "q": "7"}),
    ("/mentor/?sort=empathy&page=last", "/mentor/", {"sort": "empathy", "page": "9999"}),
]


def bench_in_process(app, courses: dict[int, str], runs: int, kind: str) -> None:
    """The cohort page's variants, the statistics and the export through the test client."""
    client = app.test_client()
    print(f"cohort pages in-process (Flask test client), {kind}, {runs} runs after 2 "
          f"warm-ups, milliseconds median (min-max)")
    print(f"{'learners':>8}  {'page':<44} {'ms':>22} {'rows':>5} {'SQL':>4}")
    for learners, token in courses.items():
        for label, path, params in VARIANTS:
            times, body = _time(client, path, {"lt": token, **params}, runs)
            print(f"{learners:8,}  {label:<44} {spread(times):>22} "
                  f"{_rows_rendered(body.decode()):5d} {_queries(app, client, token):4d}")
        times, _ = _time(client, "/mentor/statistics", {"lt": token}, max(1, runs // 2))
        print(f"{learners:8,}  {'/mentor/statistics':<44} {spread(times):>22} {'':>5} "
              f"{_queries(app, client, token, '/mentor/statistics'):4d}")
        times, body = _time(client, "/mentor/export.csv", {"lt": token}, max(1, runs // 2))
        peak, size = _export_peak(client, token)
        lines = body.count(b"\n") - 1
        print(f"{learners:8,}  {'/mentor/export.csv':<44} {spread(times):>22} "
              f"{lines:5d}    -  ({size / 1024:.0f} KiB, tracemalloc peak "
              f"{peak:.1f} MiB)")


def _rss_kib(pids: list[int]) -> int:
    """The largest resident set of these processes, KiB."""
    largest = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]))
        except FileNotFoundError:
            continue
    return largest


def http_page(server_url: str, http, token: str, params: dict, runs: int
              ) -> tuple[list[float], int]:
    """Milliseconds of `runs` GETs of the cohort page over HTTP after two warm-ups, and the
    rows the last one rendered."""
    times, body = [], ""
    for attempt in range(runs + 2):
        started = time.perf_counter()
        response = http.get(f"{server_url}/mentor/", params={"lt": token, **params})
        body = response.text
        assert response.status_code == 200, response.status_code
        if attempt >= 2:
            times.append((time.perf_counter() - started) * 1000)
    return times, _rows_rendered(body)


def http_export(server, http, token: str, runs: int) -> tuple[list[float], int, int, int]:
    """(milliseconds, bytes, worker RSS KiB before, worker RSS KiB at its peak) of `runs`
    CSV exports read over HTTP, the worker's memory sampled every 5 ms meanwhile."""
    import threading

    pids = server.pids()[1:]
    before = _rss_kib(pids)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib(pids))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    times, size = [], 0
    try:
        for _ in range(runs):
            started = time.perf_counter()
            with http.get(f"{server.url}/mentor/export.csv", params={"lt": token},
                          stream=True) as response:
                assert response.status_code == 200, response.status_code
                size = sum(len(chunk) for chunk in response.iter_content(65536))
            times.append((time.perf_counter() - started) * 1000)
    finally:
        done.set()
        sampler.join()
    return times, size, before, peak[0]


def serve(tmp: Path, database_url: str):
    """The tool under gunicorn with deploy/gunicorn.conf.py: 1 worker x 4 threads, so every
    request meets the same process (and its memory can be watched)."""
    from tests.processes import Gunicorn, free_port

    port = free_port()
    return Gunicorn(tool_url=f"http://127.0.0.1:{port}", database_url=database_url,
                    keys_dir=str(tmp / "keys"), secret=SECRET, workers=1, threads=4,
                    port=port, production_config=True)


def bench_http(tmp: Path, database_url: str, courses: dict[int, str], runs: int,
               kind: str) -> None:
    """The cohort page and the export over HTTP through gunicorn."""
    import requests

    server = serve(tmp, database_url)
    http = requests.Session()
    try:
        print(f"\nover HTTP: gunicorn -c deploy/gunicorn.conf.py, 1 worker x 4 threads, {kind}, "
              f"{runs} runs after 2 warm-ups, milliseconds median (min-max)")
        for learners, token in courses.items():
            for label, _path, params in VARIANTS[:2]:
                times, rendered = http_page(server.url, http, token, params, runs)
                print(f"{learners:8,}  {label:<44} {spread(times):>22} {rendered:5d} rows")
            times, size, before, peak = http_export(server, http, token, max(1, runs // 2))
            print(f"{learners:8,}  {'/mentor/export.csv':<44} {spread(times):>22} "
                  f"({size / 1024:.0f} KiB; worker RSS {before / 1024:.0f} MiB before, "
                  f"peak {peak / 1024:.0f} MiB)")
    finally:
        server.stop()


def db_analyze() -> None:
    """Gather the planner's statistics of every table."""
    from sqlalchemy import text

    from lti_tool.extensions import db

    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def db_dispose() -> None:
    """Close this process's connections (before gunicorn's workers use the database)."""
    from lti_tool.extensions import db

    db.session.remove()
    db.engine.dispose()


def bench_page(sizes: list[int], runs: int, http: bool) -> None:
    """Seed a course per size (and one of 10), then time and count."""
    with tempfile.TemporaryDirectory(prefix="dmd-bench-cohort-") as tmp:
        app, database_url = _app(Path(tmp))
        kind = "PostgreSQL" if "postgresql" in database_url else "SQLite"
        courses = {}
        with app.app_context():
            small, _ = _course("q10", 10, mix=True)
            for learners in sizes:
                started = time.perf_counter()
                courses[learners], _ = _course(f"c{learners}", learners, mix=True)
                print(f"seeded {learners:,} learners (1 in 10 not started, 1 in 10 halfway) "
                      f"in {time.perf_counter() - started:.1f} s, {kind}")
            # The planner's statistics, as autovacuum leaves them within a minute of a bulk
            # load (on PostgreSQL; SQLite's ANALYZE fills sqlite_stat1 the same way).
            db_analyze()
        print("tables analysed after seeding (ANALYZE)")
        client = app.test_client()
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        bench_in_process(app, courses, runs, kind)
        # After the timings: the first requests of a process fill caches (reference data).
        counts = ", ".join(f"{learners:,} learners {_queries(app, client, token)}"
                           for learners, token in {10: small, **courses}.items())
        print(f"SQL statements per cohort page: {counts}")
        if http:
            with app.app_context():
                db_dispose()
            bench_http(Path(tmp), database_url, courses, runs, kind)


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


def bench_roster(learners: int, runs: int = 10) -> None:
    """`flask roster sync --all` against the development platform with N learners."""
    from stack import Stack

    started = time.perf_counter()
    environment = dict(os.environ)
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
        for _ in range(runs):
            t0 = time.perf_counter()
            response = stack.http.get(f"{stack.tool_url}/mentor/", params={"lt": token})
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        print(f"cohort page over HTTP (gunicorn, {learners:,} learners, none started): "
              f"{spread(times)} ms, {_rows_rendered(response.text)} rows")
    finally:
        stack.stop()
        # _nrps_course points this process at the stack's (now gone) database.
        os.environ.clear()
        os.environ.update(environment)


def main() -> None:
    """Parse options and run both benches."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-roster", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    bench_page(args.learners, args.runs, not args.skip_http)
    if not args.skip_roster:
        for learners in args.learners:
            bench_roster(learners, args.runs)


if __name__ == "__main__":
    main()
