"""`make bench`: every headline figure in one table, each the median of several runs.

    .venv/bin/python bench/all.py [--runs 3]

Launch rate and median launch time (gunicorn, 2 workers), answer-save median, cohort page
for 2,000 learners, and score delivery rate. SQLite unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import cohort
import grades
import launch
import questionnaire
from stack import Stack


def main() -> None:
    """Run each measurement `runs` times and print one table of medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queued", type=int, default=300)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    environment = dict(os.environ)

    stack = Stack(workers=2, learners=30 + 3 * args.runs + args.queued * args.runs + 1)
    try:
        stack.launch("4")
        runs = [launch.run_once(stack, 100, 4, 30) for _ in range(args.runs)]
        rows.append(("launches per second (2 workers, 4 clients)",
                     f"{statistics.median(r[0] for r in runs):.1f}"))
        rows.append(("launch, median ms (tool's two requests)",
                     f"{statistics.median(r[1] for r in runs):.1f}"))
        figures = questionnaire.measure(stack, 3, args.runs, first=4 + 30)
        rows.append(("answer save, median ms", f"{figures['answer_save_ms']:.1f}"))
        rows.append(("results page, median ms", f"{figures['results_page_ms']:.1f}"))
        rates = []
        first = figures["next_user"]
        for _ in range(args.runs):
            seconds, sent = grades.queue_and_deliver(stack, first, args.queued)
            rates.append(sent / seconds)
            first += args.queued
        rows.append((f"score delivery, scores/s ({args.queued} queued, 1 worker)",
                     f"{statistics.median(rates):.0f}"))
        database = "PostgreSQL" if "postgresql" in stack.database_url else "SQLite"
    finally:
        stack.stop()
        # The delivery measurement points this process at the stack's (now gone) database.
        os.environ.clear()
        os.environ.update(environment)

    with tempfile.TemporaryDirectory(prefix="dmd-bench-cohort-") as tmp:
        app, _ = cohort._app(Path(tmp))
        with app.app_context():
            token, _ = cohort._course("big", 2000, mix=False)
        client = app.test_client()
        medians = [cohort._time(client, "/mentor/", {"lt": token}, 10)[0]
                   for _ in range(args.runs)]
        rows.append(("cohort page, 2,000 learners, median ms", f"{statistics.median(medians):.1f}"))

    print(f"make bench: {database}, medians of {args.runs} runs")
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
