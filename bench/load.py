"""Load: 200 concurrent learners answering for 60 s, then every answer checked in the database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test \\
        .venv/bin/python bench/load.py [--learners 200] [--seconds 60] [--think 3]

Loopback only; bounded in time and count; stops by itself. Each simulated learner
launches through the development platform, begins the questionnaire and then keeps
saving answers (random item, random value, as a person changing their mind) until the
time is up. With `--think S` each learner pauses between answers, as a person reading
the next statement does: each pause drawn evenly from 0.5 S to 1.5 S (a 7-point item read
and answered in about 3 s is quick for a person). Without it (0, the default) the learners
save back to back: a closed loop that finds the ceiling, the saves per second the server
sustains, not the wait a person would see. Afterwards the answers stored for each attempt
must equal the last value each learner sent for each item, and no request may have met a
server error.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import threading
import time
from collections import Counter
from urllib.parse import urljoin

import requests
from grades import FIRST_LEARNER, PAGES, launch
from stack import Stack

ITEMS = [(page, item) for page, items in enumerate(PAGES) for item in items]


def learner(stack: Stack, user_id: str, window: dict, report: dict,
            lock: threading.Lock, think: float = 0.0) -> None:
    """One simulated learner: launch, begin, wait for everyone, answer until the window ends."""
    rng = random.Random(user_id)
    http = requests.Session()
    token = re.search(r"[?&]lt=([^&]+)", launch(stack, user_id))[1]
    begun = http.post(urljoin(stack.tool_url, "/questionnaire/begin"), data={"lt": token},
                      allow_redirects=False)
    attempt = re.search(r"/attempts/(\d+)/", begun.headers["Location"])[1]
    sent: dict[str, int] = {}
    unsure: set[str] = set()
    statuses: Counter = Counter()
    times = []
    window["ready"].wait()
    until = window["until"]
    while time.monotonic() < until:
        if think:
            time.sleep(min(rng.uniform(0.5 * think, 1.5 * think),
                           max(0.0, until - time.monotonic())))
            if time.monotonic() >= until:
                break
        page, item = rng.choice(ITEMS)
        value = rng.randint(1, 7)
        started = time.perf_counter()
        try:
            response = http.post(
                urljoin(stack.tool_url, f"/questionnaire/attempts/{attempt}/answers"),
                json={"item_id": item.id, "value": value, "page": page, "seconds": 1},
                headers={"X-Launch-Token": token}, timeout=30)
        except requests.RequestException as exc:
            # No answer at all (time-out, reset): counted apart, and the value is unknown.
            statuses[f"no answer ({type(exc).__name__})"] += 1
            sent.pop(item.id, None)
            unsure.add(item.id)
            continue
        times.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
        if response.status_code == 200:
            sent[item.id] = value
            unsure.discard(item.id)
    with lock:
        report["attempts"][int(attempt)] = (sent, unsure)
        report["statuses"].update(statuses)
        report["times"].extend(times)


def main() -> None:
    """Run the load, then compare the database with what was sent."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a learner pauses between answers (0: none)")
    args = parser.parse_args()
    stack = Stack(workers=args.workers, threads=args.threads, learners=args.learners)
    report: dict = {"attempts": {}, "statuses": Counter(), "times": []}
    lock = threading.Lock()
    try:
        # Everyone launches first (launches are not the subject here); then all answer
        # together for exactly the window.
        window: dict = {"until": 0.0}
        window["ready"] = threading.Barrier(
            args.learners + 1, timeout=300,
            action=lambda: window.__setitem__("until", time.monotonic() + args.seconds))
        threads = [threading.Thread(target=learner, args=(stack, str(FIRST_LEARNER + i), window,
                                                           report, lock, args.think))
                   for i in range(args.learners)]
        for thread in threads:
            thread.start()
        window["ready"].wait()
        started = time.monotonic()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - started
        os.environ.update({k: v for k, v in stack.env.items()
                           if k.startswith("LTI_TOOL_") or k == "DATABASE_URL"})
        from sqlalchemy import select

        from lti_tool import create_app
        from lti_tool.extensions import db
        from lti_tool.questionnaire.models import Answer

        app = create_app()
        with app.app_context():
            stored: dict[int, dict[str, int]] = {}
            for answer in db.session.scalars(select(Answer)):
                stored.setdefault(answer.attempt_id, {})[answer.item_id] = answer.value
        # An item whose last request got no answer may or may not be stored: leave it out.
        mismatches = 0
        for attempt, (sent, unsure) in report["attempts"].items():
            kept = {k: v for k, v in stored.get(attempt, {}).items() if k not in unsure}
            mismatches += kept != sent
    finally:
        stack.stop()
    statuses = report["statuses"]
    total = sum(statuses.values())
    server_errors = sum(n for code, n in statuses.items() if isinstance(code, int) and code >= 500)
    database = "PostgreSQL" if "postgresql" in stack.database_url else "SQLite"
    print(f"load: {len(report['attempts'])} of {args.learners} learners, {database}, gunicorn "
          f"{args.workers} workers x {args.threads} threads, {elapsed:.0f} s in all, "
          f"think time {args.think:g} s" + (" (closed loop)" if not args.think else ""))
    print(f"answer saves: {total} ({total / elapsed:.0f}/s), statuses {dict(statuses)}")
    if report["times"]:
        times = sorted(report["times"])
        print(f"answer save ms: median {statistics.median(times):.1f}, "
              f"p95 {times[int(len(times) * 0.95)]:.1f}, max {times[-1]:.1f}")
    print(f"server errors: {server_errors}; attempts whose stored answers differ from the "
          f"last answers sent: {mismatches}")
    raise SystemExit(1 if server_errors or mismatches else 0)


if __name__ == "__main__":
    main()
