"""Instructions per launch (valgrind's callgrind): what a launch costs the tool's process, in
a figure the machine's load does not move, for comparing two versions of the code.

    .venv/bin/python bench/launch_instructions.py [--launches 20] [--root DIR ...]

For each `--root` (default: this checkout; give a `git worktree` of another commit to
compare), runs bench/profile_launch.py's in-process launches (this checkout's harness, the
tool and the development platform of that root) under `valgrind --tool=callgrind` with
counting off; after every learner's first launch and one warm-up round, counts the
instructions of the tool's own requests only (the login, the launch and its landing page;
not the platform's authorisation and signing, which run between them) over `--launches`
returning learners' launches, and prints the count per launch. SQLite in a temporary folder,
migrated by each root's own migrations. A few minutes per root.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: One measurement, run inside valgrind: the root's tool, this checkout's harness.
CHILD = r"""
import importlib.util, os, subprocess, sys, tempfile
from pathlib import Path
root, here, launches = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
import lti_tool, tests.conftest, tests.launch_driver  # the root's, before the harness loads
spec = importlib.util.spec_from_file_location("profile_launch", f"{here}/bench/profile_launch.py")
harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(harness)
assert Path(lti_tool.__file__).parent == Path(root) / "lti_tool", lti_tool.__file__

class Counting:
    # Stands in for the harness's profiler: it counts what the harness would profile.
    def enable(self):
        self._set("on")
    def disable(self):
        self._set("off")
    def _set(self, state):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True,
                       capture_output=True)

with tempfile.TemporaryDirectory(prefix="dmd-launch-instructions-") as tmp:
    bench = harness.InProcessLaunches(Path(tmp))
    try:
        users = bench.learners[:10]
        for _ in range(2):  # first launches, then a warm-up round of returning learners
            for user in users:
                bench.full_launch(user)
        bench.profile = Counting()
        for i in range(launches):
            bench.full_launch(users[i % len(users)])
    finally:
        bench.stop()
"""


def instructions(root: Path, launches: int) -> int:
    """Instructions of the tool's requests over `launches` launches by the code under `root`."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, str(root), str(ROOT), str(launches)],
        capture_output=True, text=True, env=os.environ.copy(),
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=20)
    parser.add_argument("--root", type=Path, action="append")
    args = parser.parse_args()
    roots = [root.resolve() for root in args.root or [ROOT]]
    print(f"launch (login + launch + landing page) of a returning learner, SQLite, in-process: "
          f"instructions per launch (callgrind, {args.launches} launches after a warm-up)")
    counts = []
    for root in roots:
        counts.append(instructions(root, args.launches) / args.launches)
        ratio = f"  ({counts[-1] / counts[0]:.2f}x the first)" if len(counts) > 1 else ""
        print(f"  {root.name or root}: {counts[-1] / 1e6:.2f} M{ratio}", flush=True)


if __name__ == "__main__":
    main()
