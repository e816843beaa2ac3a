"""Per-module figures from `mutmut results --all true` (read on stdin), for `make mutation`.

Killed means a test failed (or timed out) with the mutant in place; every other outcome
("survived", "no tests", ...) is a mutant the suite let through.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

DETECTED = {"killed", "timeout", "caught by type check"}


def summary(lines: list[str]) -> list[str]:
    """One line per module: killed of total, the percentage, and what survived."""
    outcomes: dict[str, Counter] = defaultdict(Counter)
    for line in lines:
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        outcomes[name.rsplit(".", 1)[0]][status] += 1
    report = []
    for module, counts in sorted(outcomes.items()):
        total = sum(counts.values())
        killed = sum(n for status, n in counts.items() if status in DETECTED)
        other = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                          if status not in DETECTED)
        report.append(f"{module}: {killed} of {total} killed ({100 * killed / total:.1f}%)"
                      + (f"; {other}" if other else ""))
    return report


if __name__ == "__main__":
    print("\n".join(summary(sys.stdin.readlines())))
