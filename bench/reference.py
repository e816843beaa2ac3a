"""The reference group's cost: pooled reliability, norms and the mentor's item analysis.

    .venv/bin/python bench/reference.py [--learners 2000] [--runs 10]

Seeds a course with N learners who all completed the questionnaire, then times (in this
process, Flask test client) the learner page a mentor opens: the first request computes the
installation's reference group (alpha and SD from every answer), later ones find it cached
until a result is added. Also the statistics page (alpha with its interval and item–total
correlations over the course) and `flask questionnaire item-analysis`.
DATABASE_URL picks PostgreSQL (its schema is dropped and rebuilt); default: SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cohort import _app, _course  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, url = _app(Path(tmp))
        with app.app_context():
            token, learner_id = _course("ref", args.learners, mix=False)
        client = app.test_client()
        page = f"/mentor/learners/{learner_id}"
        started = time.perf_counter()
        assert client.get(page, query_string={"lt": token}).status_code == 200
        cold = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            assert client.get(page, query_string={"lt": token}).status_code == 200
            warm.append((time.perf_counter() - started) * 1000)
        stats = []
        for _ in range(max(3, args.runs // 3)):
            started = time.perf_counter()
            assert client.get("/mentor/statistics",
                              query_string={"lt": token}).status_code == 200
            stats.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        # `flask` itself pushes an app context for every command; the test runner does not.
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["questionnaire", "item-analysis"])
        command = (time.perf_counter() - started) * 1000
        assert result.exit_code == 0, (result.output, result.exception)
        print(f"database: {url.split(':')[0]}, {args.learners} completed responses")
        print(f"learner page, first (computes the reference group): {cold:.0f} ms")
        print(f"learner page, cached group, median: {statistics.median(warm):.1f} ms")
        print(f"statistics page (alpha, interval, item-total), median: "
              f"{statistics.median(stats):.0f} ms")
        print(f"flask questionnaire item-analysis: {command:.0f} ms")


if __name__ == "__main__":
    main()
