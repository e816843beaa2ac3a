"""Instructions per cohort page (valgrind's callgrind): a cost that does not move with the
machine's load, for comparing two versions of the code on a noisy machine.

    .venv/bin/python bench/cohort_instructions.py [--learners 2000] [--pages 10]
        [--root DIR ...]

Seeds one SQLite course of `--learners` (as bench/cohort.py does) with this checkout's
code, then, for each `--root` (default: this checkout; give a `git worktree` of another
commit to compare), starts the tool from that root under `valgrind --tool=callgrind` with
counting off, lets it answer three warm-up pages, counts the instructions of `--pages` more
and prints the count per page for each sort and filter of bench/cohort.py. Each root reads
the same database file, so they are compared on the same data (the schema must match).
Counting is turned on and off with callgrind_control; the counts include SQLite's work
(in the same process) but not Python's start-up. About a minute per row.
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
root, folder, pages, query = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, root)
from urllib.parse import parse_qsl
from lti_tool import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/cohort.sqlite3"})
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


def seed(folder: Path, learners: int) -> None:
    """A course of `learners` in folder/cohort.sqlite3 and its mentor's token in folder/token."""
    import cohort

    from lti_tool.extensions import db

    app, _ = cohort._app(folder)
    with app.app_context():
        token, _ = cohort._course("c", learners, mix=True)
        db.session.remove()
        db.engine.dispose()
    (folder / "token").write_text(token)


def instructions(root: Path, folder: Path, pages: int, query: str) -> int:
    """Instructions counted over `pages` cohort pages answered by the code under `root`."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, str(root), str(folder), str(pages), query],
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
    args = parser.parse_args()
    roots = [root.resolve() for root in args.root or [ROOT]]
    with tempfile.TemporaryDirectory(prefix="dmd-bench-instructions-") as tmp:
        folder = Path(tmp)
        seed(folder, args.learners)
        print(f"cohort page, {args.learners:,} learners, SQLite: instructions per page "
              f"(callgrind, {args.pages} pages after 3 warm-ups)")
        for label, _, params in cohort.VARIANTS:
            query = "&".join(f"{key}={value}" for key, value in params.items())
            counts = [instructions(root, folder, args.pages, query) / args.pages
                      for root in roots]
            figures = "  ".join(f"{root.name or root}: {count / 1e6:.1f} M"
                                for root, count in zip(roots, counts, strict=True))
            ratio = f"  ({counts[-1] / counts[0]:.2f}x)" if len(counts) > 1 else ""
            print(f"  {label:<44} {figures}{ratio}")


if __name__ == "__main__":
    main()
