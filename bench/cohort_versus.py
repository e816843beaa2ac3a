"""The cohort page on SQLite and on PostgreSQL in one run: PostgreSQL's ratio to SQLite.

    .venv/bin/python bench/cohort_versus.py --postgres URL [--learners 2000] [--runs 21]

Two tools in this process (Flask test clients), one on a SQLite file in a temporary folder,
one on the PostgreSQL database at URL (its schema is dropped and rebuilt: the database name
must contain "bench" or "test"). Both get the same course as bench/cohort.py seeds it, then
ANALYZE. Then, for each of bench/cohort.py's page variants, the two are asked in turn, one
page each, `--runs` times after three warm-ups, so that both meet the machine in the same
state: separate runs minutes apart cannot compare them on a machine whose speed moves from
one hour to the next. Prints each side's median (min-max), the ratio of the medians, and the
SQL statements of one page on each.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _seeded(folder: Path, database_url: str | None, learners: int):
    """(app, mentor's token) of a tool on `database_url` (None: SQLite in `folder`)."""
    import cohort

    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    app, _ = cohort._app(folder)
    with app.app_context():
        token, _ = cohort._course("versus", learners, mix=True)
        cohort.db_analyze()
        cohort.db_dispose()
    return app, token


def main() -> None:
    import statistics

    import cohort

    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    name = args.postgres.rsplit("/", 1)[-1]
    if "bench" not in name and "test" not in name:
        raise SystemExit(f"{name!r}: its schema would be dropped; name a bench or test database")
    with tempfile.TemporaryDirectory(prefix="dmd-bench-versus-") as tmp:
        sides = {}
        for label, url in (("SQLite", None), ("PostgreSQL", args.postgres)):
            folder = Path(tmp) / label
            folder.mkdir()
            app, token = _seeded(folder, url, args.learners)
            sides[label] = (app, app.test_client(), token)
        load = os.getloadavg()
        print(f"cohort page, {args.learners:,} learners, in-process, SQLite and PostgreSQL "
              f"asked in turn; {args.runs} pages each after 3 warm-ups; load average "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; milliseconds median (min-max)")
        print(f"{'page':<44} {'SQLite':>20} {'PostgreSQL':>20} {'PG/SQLite':>9} {'SQL':>7}")
        for label, path, params in cohort.VARIANTS:
            times: dict[str, list[float]] = {side: [] for side in sides}
            for attempt in range(args.runs + 3):
                for side, (_app, client, token) in sides.items():
                    started = time.perf_counter()
                    response = client.get(path, query_string={"lt": token, **params})
                    response.get_data()
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, (side, response.status_code)
                    if attempt >= 3:
                        times[side].append(elapsed)
            statements = "/".join(str(cohort._queries(app, client, token, path, params))
                                  for app, client, token in sides.values())
            ratio = statistics.median(times["PostgreSQL"]) / statistics.median(times["SQLite"])
            print(f"{label:<44} {cohort.spread(times['SQLite']):>20} "
                  f"{cohort.spread(times['PostgreSQL']):>20} {ratio:>8.2f}x {statements:>7}")
        for app, _client, _token in sides.values():
            with app.app_context():
                cohort.db_dispose()


if __name__ == "__main__":
    main()
