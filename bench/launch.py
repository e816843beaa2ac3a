"""Full LTI launches (login redirect + launch POST) against gunicorn with 2 workers.

    .venv/bin/python bench/launch.py [--launches 200] [--clients 4] [--runs 3]

Prints launches per second and the median milliseconds per launch, each the median of
several runs. "tool ms" is the time of the two requests the tool answers; "round ms"
adds the platform's pages, as a browser would see it. DATABASE_URL picks PostgreSQL.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from stack import Stack


def run_once(
    stack: Stack, launches: int, clients: int, learners: int
) -> tuple[float, float, float]:
    """One run: (launches per second, median tool ms, median round ms)."""
    users = [str(4 + i % learners) for i in range(launches)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        timings = list(pool.map(stack.launch, users))
    wall = time.perf_counter() - started
    return (
        launches / wall,
        statistics.median(t.tool_ms for t in timings),
        statistics.median(t.total_ms for t in timings),
    )


def main() -> None:
    """Parse options, run, print one table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack = Stack(workers=2)
    try:
        stack.launch("4")  # warm up both processes' imports and caches
        runs = [run_once(stack, args.launches, args.clients, 30) for _ in range(args.runs)]
    finally:
        stack.stop()
    rate = statistics.median(r[0] for r in runs)
    tool_ms = statistics.median(r[1] for r in runs)
    round_ms = statistics.median(r[2] for r in runs)
    print(f"launch bench: gunicorn 2 workers, {args.clients} concurrent clients, "
          f"{args.launches} launches x {args.runs} runs, "
          f"{'PostgreSQL' if 'postgres' in stack.database_url else 'SQLite'}")
    print(f"{'launches/s':>12} {'tool ms (median)':>18} {'round ms (median)':>19}")
    print(f"{rate:12.1f} {tool_ms:18.1f} {round_ms:19.1f}")


if __name__ == "__main__":
    main()
