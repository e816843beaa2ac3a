"""Grades: submit latency with the LMS answering or hanging, and the worker's delivery rate.

    .venv/bin/python bench/grades.py [--submits 25] [--queued 1000] [--hang 5]
    .venv/bin/python bench/grades.py --platform lean [--queued 1000]

Runs the tool under gunicorn (2 workers), the development platform in its own process and
one `flask grades worker` beside them, as `make run` does, on a fresh database.

1. Submit latency: N learners each launch, answer pages 1-3, and the POST of the last page
   (go=submit) is timed: median milliseconds, first with the platform answering normally,
   then with every AGS call hanging `--hang` seconds (the worker is stuck on it meanwhile).
   Delivery happens outside the learner's request, so the two should be alike.
2. Delivery rate: `--queued` scores are put in the outbox at once, then one worker (this
   process, `deliver_due`, as `flask grades sync`) sends them: scores per second.

The development platform spends more CPU per score than the tool, so on a small machine it
sets the delivery rate. `--platform lean` measures only the delivery (2.), with the same
tool code, to ../shared/anchors/launchbench.py serving (`--serve`): a stdlib platform whose
token, line item and score endpoints answer at once, so the figure is what the tool
sustains. The tool is not started under gunicorn then; this process delivers.
DATABASE_URL picks PostgreSQL; default SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from stack import PY, ROOT, Stack
from versus_anchor import default_anchors, registered_tool, wait_until_answers

sys.path.insert(0, str(ROOT))

from lti_tool.questionnaire.versions import current_instrument  # noqa: E402
from tests.launch_driver import landed, landing_url_of, parse_form  # noqa: E402
from tests.processes import free_port  # noqa: E402

PAGES = current_instrument().pages()
FIRST_LEARNER = 4  # the seeded instructor is user 3


def _answers(index: int) -> dict[str, str]:
    keyed = 2 + index % 5
    return {
        item.id: str(item.attention_check_expected if item.is_attention_check
                     else (8 - keyed if item.reverse else keyed))
        for item in current_instrument().items
    }


def launch(stack: Stack, user_id: str) -> str:
    """One launch as a browser makes it; the landing URL. The tool's login answers with a
    redirect, or with its Platform Storage page whose script goes on to the same URL."""
    page = stack.http.get(f"{stack.platform_url}/mod/lti/launch.php",
                          params={"id": 2, "user": user_id})
    action, fields = parse_form(page.text)
    login = stack.http.post(action, data=fields, allow_redirects=False)
    cookies = {c.name: c.value for c in login.cookies}
    if login.status_code == 302:
        auth_url = login.headers["Location"]
    else:
        auth_url = html.unescape(re.search(r'data-auth-url="([^"]+)"', login.text)[1])
    auth = stack.http.get(auth_url, allow_redirects=False)
    action, fields = parse_form(auth.text)
    launched = requests.post(action, data=fields, cookies=cookies, allow_redirects=False)
    assert landed(launched), launched.text[:500]
    return urljoin(stack.tool_url, landing_url_of(launched))


def submit_ms(stack: Stack, user_id: str, index: int) -> float:
    """Launch as the learner, answer pages 1-3, and time the submitting POST of page 4."""
    landing = launch(stack, user_id)
    token = re.search(r"[?&]lt=([^&]+)", landing)[1]
    begun = requests.post(urljoin(stack.tool_url, "/questionnaire/begin"), data={"lt": token},
                          allow_redirects=False)
    attempt = re.search(r"/attempts/(\d+)/", begun.headers["Location"])[1]
    answers = _answers(index)
    elapsed = 0.0
    for page, items in enumerate(PAGES):
        last = page == len(PAGES) - 1
        fields = {f"item-{item.id}": answers[item.id] for item in items}
        url = urljoin(stack.tool_url, f"/questionnaire/attempts/{attempt}/pages/{page}")
        data = {"lt": token, "go": "submit" if last else "next", "seconds": "60", **fields}
        started = time.perf_counter()
        response = requests.post(url, data=data, allow_redirects=False)
        if last:
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 303, response.text[:300]
    assert "/results" in urlsplit(response.headers["Location"]).path
    return elapsed


def platform_switches(stack: Stack, **switches: str) -> None:
    """Flip the platform's switches through its settings page, as a person would."""
    response = requests.post(stack.platform_url + "/settings", data=switches,
                             allow_redirects=False)
    assert response.status_code == 303, response.text[:300]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tool_app(env: dict[str, str]):
    """The tool's app in this process, on the bench's database and keys."""
    os.environ.update({key: value for key, value in env.items()
                       if key.startswith("LTI_TOOL_") or key == "DATABASE_URL"})
    from lti_tool import create_app

    return create_app()


def queue_and_deliver(app, platform_pid: int, platform_name: str, first_user: int,
                      queued: int) -> tuple[float, int, float, float]:
    """Put `queued` scores in the outbox, deliver them in this process; (seconds, sent, the
    tool's CPU ms per score, the platform's CPU ms per score).

    The database holds one platform with one resource link; every score goes there."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.gradebook import sync
    from lti_tool.gradebook.models import ScoreRecord, ScoreStatus
    from lti_tool.gradebook.settings import grade_settings
    from lti_tool.identity.models import Person, Platform, ResourceLink, utcnow

    with app.app_context():
        # What the hang left waiting (due in a minute at most) is not part of the measurement.
        sync.deliver_due(utcnow() + timedelta(hours=1))
        platform = db.session.scalars(select(Platform)).one()
        link = db.session.scalars(select(ResourceLink)).one()
        settings = grade_settings(link.id)
        record_ids = []
        for offset in range(queued):
            person = Person(platform_id=platform.id, sub=str(first_user + offset))
            db.session.add(person)
            db.session.flush()
            record_ids.append(sync.add_record(settings, person.id, None, 1 + offset % 10).id)
        db.session.commit()
        platform_cpu = _cpu_seconds(platform_pid)
        tool_cpu = time.process_time()
        started = time.perf_counter()
        report = sync.deliver_due()
        seconds = time.perf_counter() - started
        tool_cpu = time.process_time() - tool_cpu
        platform_cpu = _cpu_seconds(platform_pid) - platform_cpu
        print(f"delivery CPU per score: tool {1000 * tool_cpu / report.sent:.2f} ms, "
              f"{platform_name} {1000 * platform_cpu / report.sent:.2f} ms")
        failed = db.session.scalar(
            select(db.func.count()).where(ScoreRecord.status == ScoreStatus.FAILED)
        )
        assert failed == 0, f"{failed} scores failed"
        # Each queued score was sent, in one try, to the link's line item: one POST each.
        outcomes = db.session.execute(
            select(ScoreRecord.status, ScoreRecord.attempts, ScoreRecord.lineitem_url,
                   db.func.count())
            .where(ScoreRecord.id.in_(record_ids))
            .group_by(ScoreRecord.status, ScoreRecord.attempts, ScoreRecord.lineitem_url)
        ).all()
        expected = (ScoreStatus.SENT, 1, link.ags_lineitem or settings.lineitem_url, queued)
        assert [tuple(row) for row in outcomes] == [expected], outcomes
    return (seconds, report.sent, 1000 * tool_cpu / report.sent,
            1000 * platform_cpu / report.sent)


class LeanPlatform:
    """launchbench.py --serve: a JWKS, a token endpoint, a line item and a scores endpoint
    that answer at once, on a free loopback port."""

    def __init__(self) -> None:
        anchors = default_anchors()
        if anchors is None:
            raise SystemExit("../shared/anchors/launchbench.py not found")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.lineitems_url = f"{self.url}/ags/context1/lineitems"
        self.lineitem_url = f"{self.lineitems_url}/1/lineitem"
        self.process = subprocess.Popen(
            [PY, str(anchors / "launchbench.py"), "--serve", "--jwks-port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.process.pid
        wait_until_answers(self.process, self.url + "/jwks", 30, "launchbench --serve")

    def stop(self) -> None:
        """Stop it."""
        self.process.terminate()
        self.process.wait(10)


def add_lean_link(app, platform: LeanPlatform) -> None:
    """A course and an activity on the lean platform whose AGS claim names its line item,
    as a launch from it would have stored them."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.identity.models import Course, Platform, ResourceLink
    from lti_tool.lti.services import (
        SCOPE_LINEITEM,
        SCOPE_LINEITEM_READ,
        SCOPE_SCORE,
    )

    with app.app_context():
        registered = db.session.scalars(select(Platform)).one()
        course = Course(platform_id=registered.id, context_id="context1", label="BENCH101",
                        title="Launch bench course")
        db.session.add(course)
        db.session.flush()
        db.session.add(ResourceLink(
            platform_id=registered.id, course_id=course.id, resource_link_id="bench-link-1",
            title="Bench resource link", ags_lineitem=platform.lineitem_url,
            ags_lineitems=platform.lineitems_url,
            ags_scopes=[SCOPE_LINEITEM, SCOPE_LINEITEM_READ, SCOPE_SCORE],
        ))
        db.session.commit()


def lean_delivery(queued: int) -> tuple[float, int, float, float]:
    """Deliver `queued` scores to launchbench, print the rate and the CPU per score; the
    figures as queue_and_deliver gives them."""
    platform = LeanPlatform()
    try:
        with tempfile.TemporaryDirectory(prefix="dmd-bench-") as tmp:
            # No tool server runs: its URL is never visited.
            env = registered_tool(Path(tmp), platform.url, "http://127.0.0.1:9")
            app = tool_app(env)
            add_lean_link(app, platform)
            figures = queue_and_deliver(app, platform.pid, "launchbench", 1, queued)
            seconds, sent = figures[:2]
            database = "PostgreSQL" if "postgresql" in env["DATABASE_URL"] else "SQLite"
    finally:
        platform.stop()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"grades bench: delivery to launchbench (lean platform), {database}, "
          f"load average {load}")
    print(f"delivery: {sent} queued scores sent by one worker in {seconds:.2f} s "
          f"= {sent / seconds:.0f} scores/s")
    return figures


def main() -> None:
    """Parse options, run the three measurements, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=25)
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--hang", type=float, default=5.0)
    parser.add_argument("--platform", choices=["dev", "lean"], default="dev",
                        help="lean: only the delivery rate, to launchbench --serve")
    args = parser.parse_args()
    if args.platform == "lean":
        lean_delivery(args.queued)
        return
    learners = 2 * args.submits + args.queued + 1  # the last one warms up
    stack = Stack(workers=2, learners=learners)
    worker = subprocess.Popen([PY, "-m", "flask", "--app", "lti_tool", "grades", "worker",
                               "--poll", "0.5"], cwd=ROOT, env=stack.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        submit_ms(stack, str(FIRST_LEARNER + learners - 1), 0)  # warm up both processes
        normal = [submit_ms(stack, str(FIRST_LEARNER + i), i) for i in range(args.submits)]
        platform_switches(stack, ags_failure="hang", ags_hang_seconds=str(args.hang))
        hanging = [submit_ms(stack, str(FIRST_LEARNER + args.submits + i), i)
                   for i in range(args.submits)]
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        platform_switches(stack, ags_failure="")
        seconds, sent, _, _ = queue_and_deliver(tool_app(stack.env), stack.platform.pid,
                                                "development platform",
                                                FIRST_LEARNER + 2 * args.submits, args.queued)
    finally:
        if worker.poll() is None:
            worker.kill()
        stack.stop()
    database = "PostgreSQL" if "postgresql" in stack.database_url else "SQLite"
    print(f"grades bench: gunicorn 2 workers + 1 grades worker, {database}")
    print(f"submit latency, median of {args.submits} submits:")
    print(f"  platform answering normally      {statistics.median(normal):8.1f} ms")
    print(f"  platform's AGS hanging {args.hang:g} s       {statistics.median(hanging):8.1f} ms")
    print(f"delivery: {sent} queued scores sent by one worker in {seconds:.1f} s "
          f"= {sent / seconds:.0f} scores/s")


if __name__ == "__main__":
    main()
