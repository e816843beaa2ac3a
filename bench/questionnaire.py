"""The learner's requests against gunicorn with 2 workers: answer save and results page.

    .venv/bin/python bench/questionnaire.py [--learners 10] [--runs 3]

Each learner launches, begins, saves every answer with the autosave request (as the
page's script does) and submits; the results page is then fetched 10 times. Prints the
median milliseconds of each request type, as the median of several runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from urllib.parse import urljoin

import requests
from grades import FIRST_LEARNER, PAGES, _answers, launch
from stack import Stack


def one_learner(stack: Stack, user_id: str, index: int) -> tuple[list[float], list[float]]:
    """(autosave ms list, results ms list) for one learner's whole questionnaire."""
    token = re.search(r"[?&]lt=([^&]+)", launch(stack, user_id))[1]
    begun = requests.post(urljoin(stack.tool_url, "/questionnaire/begin"), data={"lt": token},
                          allow_redirects=False)
    attempt = re.search(r"/attempts/(\d+)/", begun.headers["Location"])[1]
    answers = _answers(index)
    saves = []
    http = requests.Session()
    for page, items in enumerate(PAGES):
        for item in items:
            started = time.perf_counter()
            response = http.post(
                urljoin(stack.tool_url, f"/questionnaire/attempts/{attempt}/answers"),
                json={"item_id": item.id, "value": int(answers[item.id]), "page": page,
                      "seconds": 3}, headers={"X-Launch-Token": token})
            saves.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    last = len(PAGES) - 1
    done = http.post(urljoin(stack.tool_url, f"/questionnaire/attempts/{attempt}/pages/{last}"),
                     data={"lt": token, "go": "submit", "seconds": "30"}, allow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    results_url = urljoin(stack.tool_url, done.headers["Location"])
    pages = []
    for _ in range(10):
        started = time.perf_counter()
        response = http.get(results_url)
        pages.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return saves, pages


def measure(stack: Stack, learners: int, runs: int, first: int = FIRST_LEARNER) -> dict:
    """Medians over `runs` runs of `learners` learners each."""
    save_medians, result_medians = [], []
    user = first
    for _ in range(runs):
        saves, pages = [], []
        for index in range(learners):
            s, p = one_learner(stack, str(user), index)
            saves += s
            pages += p
            user += 1
        save_medians.append(statistics.median(saves))
        result_medians.append(statistics.median(pages))
    return {"answer_save_ms": statistics.median(save_medians),
            "results_page_ms": statistics.median(result_medians), "next_user": user}


def main() -> None:
    """Parse options, run, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack = Stack(workers=2, learners=args.learners * args.runs + 1)
    try:
        one_learner(stack, str(FIRST_LEARNER + args.learners * args.runs), 0)  # warm up
        figures = measure(stack, args.learners, args.runs)
    finally:
        stack.stop()
    print(f"questionnaire bench: gunicorn 2 workers, {args.learners} learners x {args.runs} runs")
    print(f"answer save (autosave request)  median {figures['answer_save_ms']:.1f} ms")
    print(f"results page                    median {figures['results_page_ms']:.1f} ms")


if __name__ == "__main__":
    main()
