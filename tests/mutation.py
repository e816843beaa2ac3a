"""`make mutation`: mutmut over each module of [tool.dmd-mutation] in pyproject.toml, with only
the tests named for it there, then per-module figures.

mutmut runs, for each mutant, every selected test that reaches the mutated function; with one
selection for all modules a mutant of lti/roles.py would also run every launch test. So each
module gets its own run, in build/mutation/<module>/ (links to lti_tool/ and tests/ and a
pyproject.toml whose [tool.mutmut] names that module and its tests).

    python tests/mutation.py [MODULE ...]     # default: every module listed
    python tests/mutation.py --summary-only   # figures of the runs already made
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")
#: Outcomes where the suite noticed the mutant (a test failed or ran out of time).
DETECTED = {"killed", "timeout", "caught by type check"}


def modules() -> dict[str, list[str]]:
    """Module path → the test files that exercise it, from pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return data["tool"]["dmd-mutation"]["modules"]


def _slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def prepare(module: str, tests: list[str]) -> Path:
    """The module's work folder: links to the code and tests, and its mutmut settings."""
    folder = WORK / _slug(module)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("lti_tool", "tests"):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    text = (ROOT / "pyproject.toml").read_text()
    text = text.split("\n[tool.mutmut]")[0].split("\n[tool.dmd-mutation")[0]
    selection = ", ".join(f'"{test}"' for test in tests)
    text += (
        "\n[tool.mutmut]\n"
        'source_paths = ["lti_tool"]\n'
        f'only_mutate = ["{module}"]\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
    )
    (folder / "pyproject.toml").write_text(text)
    return folder


def run(module: str, tests: list[str]) -> None:
    """mutmut run for one module; MUTATION_CHILDREN test processes at a time (default 1).

    Each test process has its own SQLite database (a session temporary folder), so children
    do not share state.
    """
    folder = prepare(module, tests)
    children = os.environ.get("MUTATION_CHILDREN", "1")
    subprocess.run([str(MUTMUT), "run", "--max-children", children], cwd=folder, check=True)


def outcomes(module: str) -> Counter:
    """How this module's mutants fared in its last run (empty before one)."""
    folder = WORK / _slug(module)
    if not (folder / "mutants").exists():
        return Counter()
    listed = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=folder,
                            capture_output=True, text=True, check=True).stdout
    counts: Counter = Counter()
    for line in listed.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            counts[status] += 1
    return counts


def summary(module: str, counts: Counter) -> str:
    """One line: killed of total, the percentage, and what else happened."""
    # "not checked": a run stopped before it reached them; they are in no figure.
    total = sum(n for status, n in counts.items() if status != "not checked")
    if not total:
        return f"{module}: not run"
    killed = sum(n for status, n in counts.items() if status in DETECTED)
    other = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                      if status not in DETECTED)
    return (f"{module}: {killed} of {total} killed ({100 * killed / total:.1f}%)"
            + (f"; {other}" if other else ""))


def main(argv: list[str]) -> None:
    listed = modules()
    summary_only = "--summary-only" in argv
    chosen = [a for a in argv if not a.startswith("--")] or list(listed)
    for module in chosen:
        if not summary_only:
            run(module, listed[module])
    for module in chosen:
        print(summary(module, outcomes(module)))


if __name__ == "__main__":
    main(sys.argv[1:])
