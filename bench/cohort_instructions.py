"""Instructions per cohort page (valgrind's callgrind): a cost that does not move with the
machine's load, for comparing two versions of the code on a noisy machine.

    .venv/bin/python bench/cohort_instructions.py [--learners 2000] [--pages 10]
        [--root DIR ...] [--postgres URL]

Seeds one SQLite course of `--learners` (as bench/cohort.py does) with this checkout's
code, then, for each `--root` (default: this checkout; give a `git worktree` of another
commit to compare), starts the tool from that root under `valgrind --tool=callgrind` with
counting off, lets it answer three warm-up pages, counts the instructions of `--pages` more
and prints the count per page for each sort and filter of bench/cohort.py. Each root reads
the same database file, so they are compared on the same data (the schema must match).
Counting is turned on and off with callgrind_control; the counts include SQLite's work
(in the same process) but not Python's start-up. About a minute per row. `--postgres URL`
seeds and asks that PostgreSQL database instead (analysed after seeding): the count is then
the tool's own process (its SQL building, psycopg, rendering), not the server's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

#: The page requests of one measurement, run inside valgrind from the root being measured.
CHILD = r"""
import os, subprocess, sys
root, folder, pages, query, database = sys.argv[1:6]
pages = int(pages)
sys.path.insert(0, root)
from urllib.parse import parse_qsl
from lti_tool import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": database})
client = app.test_client()
params = {"lt": open(f"{folder}/token").read(), **dict(parse_qsl(query))}
for _ in range(3):
    response = client.get("/mentor/", query_string=params)
    assert response.status_code == 200, response.status_code
    response.get_data()
def counting(state):
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True,
                   capture_output=True)
counting("on")
for _ in range(pages):
    client.get("/mentor/", query_string=params).get_data()
counting("off")
"""


def seed(folder: Path, learners: int) -> str:
    """A course of `learners` in folder/cohort.sqlite3 (or DATABASE_URL's PostgreSQL database,
    its schema rebuilt, then analysed) and its mentor's token in folder/token; the database
    URL."""
    import cohort

    from lti_tool.extensions import db

    app, database_url = cohort._app(folder)
    with app.app_context():
        token, _ = cohort._course("c", learners, mix=True)
        if db.engine.dialect.name == "postgresql":
            # As autovacuum soon would (SQLite's counts are measured unanalysed, as before).
            cohort.db_analyze()
        db.session.remove()
        db.engine.dispose()
    (folder / "token").write_text(token)
    return database_url


def instructions(root: Path, folder: Path, pages: int, query: str, database: str) -> int:
    """Instructions counted over `pages` cohort pages answered by the code under `root`."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, str(root), str(folder), str(pages), query, database],
        capture_output=True, text=True, env=os.environ.copy(), check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    import cohort

    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--root", type=Path, action="append")
    parser.add_argument("--postgres", metavar="URL",
                        help="seed and ask this PostgreSQL database (its schema is rebuilt); "
                             "the count is then the tool's process only, not the server's")
    args = parser.parse_args()
    if args.postgres:
        os.environ["DATABASE_URL"] = args.postgres
    roots = [root.resolve() for root in args.root or [ROOT]]
    with tempfile.TemporaryDirectory(prefix="dmd-bench-instructions-") as tmp:
        folder = Path(tmp)
        database = seed(folder, args.learners)
        kind = ("PostgreSQL (the tool's process; the server's work is not counted)"
                if args.postgres else "SQLite")
        print(f"cohort page, {args.learners:,} learners, {kind}: instructions per page "
              f"(callgrind, {args.pages} pages after 3 warm-ups)")
        for label, _, params in cohort.VARIANTS:
            query = "&".join(f"{key}={value}" for key, value in params.items())
            counts = [instructions(root, folder, args.pages, query, database) / args.pages
                      for root in roots]
            figures = "  ".join(f"{root.name or root}: {count / 1e6:.1f} M"
                                for root, count in zip(roots, counts, strict=True))
            ratio = f"  ({counts[-1] / counts[0]:.2f}x)" if len(counts) > 1 else ""
            print(f"  {label:<44} {figures}{ratio}")


if __name__ == "__main__":
    main()
