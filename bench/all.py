"""`make bench`: every headline figure in one table, from one run.

    .venv/bin/python bench/all.py [--runs 3] [--launches 500] [--clients 4] [--queued 1000]
        [--anchor-work DIR] [--no-floor] [--markdown]

1. Launch: the tool beside the pylti1p3 example, both driven by launchbench.py (see
   versus_anchor.py): launches/s, median ms, server CPU per launch, one-client latency;
   and the floor (bench/floor_app.py), the least a launch costs in this stack.
2. Answer save and results page (the tool under gunicorn, deploy/gunicorn.conf.py).
3. Score delivery: `--queued` scores to the development platform, one worker pass, then
   the same to launchbench's stand-in platform (grades.py --platform lean).
4. Cohort page for 2,000 and 10,000 learners in-process and over HTTP (gunicorn), with the
   rows rendered and SQL statements (tables analysed after seeding); the CSV export of
   10,000 (time and memory).
SQLite unless DATABASE_URL is set (`make bench DB=postgres` sets it and REDIS_URL).
`--markdown` prints the README's table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
from pathlib import Path

import cohort
import grades
import questionnaire
import versus_anchor
from stack import Stack


def spread(values: list[float], digits: int = 1) -> str:
    """median (min-max)."""
    return versus_anchor.spread(values, digits)


def cohort_figures(runs: int) -> list[tuple[str, str, str]]:
    """Cohort page medians for 2,000 and 10,000 learners, in-process and over HTTP
    (gunicorn), with the rows each rendered and its SQL statements; the 10,000-learner CSV
    export's time and memory. The tables are analysed after seeding (ANALYZE)."""
    import requests

    rows = []
    with tempfile.TemporaryDirectory(prefix="dmd-bench-cohort-") as tmp:
        app, database_url = cohort._app(Path(tmp))
        client = app.test_client()
        tokens = {}
        for learners in (2000, 10000):
            with app.app_context():
                tokens[learners], _ = cohort._course(f"c{learners}", learners, mix=True)
                # As autovacuum would soon after such a bulk load.
                cohort.db_analyze()
            times, body = cohort._time(client, "/mentor/", {"lt": tokens[learners]}, 5 * runs)
            statements = cohort._queries(app, client, tokens[learners])
            rows.append((f"cohort page, {learners:,} learners, ms (in-process; "
                         f"{cohort._rows_rendered(body.decode())} rows, {statements} SQL)",
                         spread(times), ""))
        token = tokens[10000]
        exports, _ = cohort._time(client, "/mentor/export.csv", {"lt": token}, runs)
        peak, size = cohort._export_peak(client, token)
        rows.append((f"CSV export, 10,000 learners, ms ({size // 1024} KiB, "
                     f"tracemalloc peak {peak:.1f} MiB)", spread(exports), ""))
        with app.app_context():
            cohort.db_dispose()
        server = cohort.serve(Path(tmp), database_url)
        try:
            http = requests.Session()
            for learners, token in tokens.items():
                times, rendered = cohort.http_page(server.url, http, token, {}, 5 * runs)
                rows.append((f"cohort page, {learners:,} learners, ms (HTTP, gunicorn; "
                             f"{rendered} rows)", spread(times), ""))
            times, size, before, top = cohort.http_export(server, http, tokens[10000], runs)
            rows.append((f"CSV export, 10,000 learners, ms (HTTP; worker RSS "
                         f"{before // 1024}->{top // 1024} MiB)", spread(times), ""))
        finally:
            server.stop()
    return rows


def main() -> None:
    """Run each measurement and print one table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--launches", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--single", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--anchors")
    parser.add_argument("--anchor-work")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="leave out bench/floor_app.py (see versus_anchor.py --floor)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    environment = dict(os.environ)

    launch = versus_anchor.measure(args)
    print(versus_anchor.report(launch), flush=True)
    rows = versus_anchor.table(launch)
    ratio = versus_anchor.ratios(launch)

    stack = Stack(workers=args.workers, learners=3 * 10 + args.queued + 2)
    try:
        questionnaire.one_learner(stack, "4", 0)  # warm up
        figures = questionnaire.measure(stack, 10, 1, first=5)
        rows.append(("answer save, median ms (one client)",
                     f"{figures['answer_save_ms']:.1f}", ""))
        rows.append(("results page, median ms", f"{figures['results_page_ms']:.1f}", ""))
        seconds, sent, tool_ms, platform_ms = grades.queue_and_deliver(
            grades.tool_app(stack.env), stack.platform.pid, "development platform",
            figures["next_user"], args.queued)
        rows.append((f"score delivery to the development platform, scores/s ({args.queued:,} "
                     f"queued, one worker; CPU ms per score: tool {tool_ms:.2f}, platform "
                     f"{platform_ms:.2f})", f"{sent / seconds:.0f}", ""))
    finally:
        stack.stop()
        # The delivery measurement points this process at the stack's (now gone) database.
        os.environ.clear()
        os.environ.update(environment)
    # The same delivery to launchbench's stand-in platform, which costs next to nothing: the
    # rate the tool itself sustains.
    seconds, sent, tool_ms, platform_ms = grades.lean_delivery(args.queued)
    os.environ.clear()
    os.environ.update(environment)
    rows.append((f"score delivery to launchbench --serve, scores/s ({args.queued:,} queued, one "
                 f"worker; CPU ms per score: tool {tool_ms:.2f}, platform {platform_ms:.2f})",
                 f"{sent / seconds:.0f}", ""))
    rows += cohort_figures(args.runs)

    load = os.getloadavg()
    header = (f"make bench, {started:%Y-%m-%d %H:%M} UTC: {launch['database']}, "
              f"{launch['cores']} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"(before the launches {launch['load_before'][0]:.2f}); tool "
              f"{launch['tool_workers']} gunicorn workers x {launch['threads']} threads, "
              f"example 1 worker; {args.runs} runs; median (min-max)")
    ratio_line = (f"tool/example: launches/s {ratio['launches']:.2f}x, server CPU per launch "
                  f"{ratio['cpu']:.2f}x")
    print()
    print(header)
    if args.markdown:
        print("| measure | tool | pylti1p3 example |\n|---|---|---|")
        for label, tool, anchor in rows:
            print(f"| {label} | {tool} | {anchor} |")
    else:
        width = max(len(r[0]) for r in rows)
        for label, tool, anchor in rows:
            print(f"{label:<{width}}  {tool:>22}  {anchor:>22}")
    print(ratio_line)
    floor = versus_anchor.floor_line(launch)
    if floor:
        print(floor)


if __name__ == "__main__":
    main()
