"""`flask worker`: one process runs every background job, so an operator runs one thing.

Each pass: deliver due scores to the LMS gradebooks; every ten minutes remove expired
protocol data (login states, service tokens) from the database store; every
MAIL_SCAN_MINUTES look for time-driven e-mails (reminders, actions due or overdue, goal
reviews), then send due e-mails; then pause. A job that fails is logged and the others go
on; the next pass tries it again. On PostgreSQL any number of workers may run side by side
(each claims rows with SKIP LOCKED); on SQLite run one.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import current_app

from lti_tool.extensions import db

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One kind of background work: a pass, run at most every `every` seconds (0: each loop)."""

    name: str
    run: Callable[[threading.Event], int]
    every: float = 0
    last: float | None = None

    def due(self, clock: float) -> bool:
        """Whether the job should run in this loop."""
        return self.last is None or clock - self.last >= self.every


def _grades(stop: threading.Event) -> int:
    from lti_tool.gradebook import sync

    return sync.deliver_due(stop=stop).handled


def _scan(_stop: threading.Event) -> int:
    from lti_tool.mentoring import mail

    report = mail.scan()
    db.session.commit()
    return report.total


def _mail(stop: threading.Event) -> int:
    from lti_tool.notifications import sender

    return sender.send_due(stop=stop).handled


def _housekeeping(_stop: threading.Event) -> int:
    from lti_tool.lti.storage import DatabaseStore, shared_store

    store = shared_store()
    # Redis expires its own keys; the database store keeps expired rows until removed here.
    return store.purge_expired() if isinstance(store, DatabaseStore) else 0


#: How often the worker removes expired protocol data (states, tokens, key sets).
HOUSEKEEPING_SECONDS = 600


def every_job() -> list[Job]:
    """The jobs `flask worker` runs; the mail jobs only when a mail server is configured."""
    jobs = [Job("grades", _grades), Job("housekeeping", _housekeeping, every=HOUSEKEEPING_SECONDS)]
    if current_app.config.get("MAIL_HOST"):
        jobs += [Job("mail scan", _scan, every=current_app.config["MAIL_SCAN_MINUTES"] * 60),
                 Job("mail", _mail)]
    return jobs


def work(stop: threading.Event, poll_seconds: float, jobs: list[Job]) -> dict[str, int]:
    """Run the jobs until `stop` is set; how many items each handled."""
    handled = {job.name: 0 for job in jobs}
    while not stop.is_set():
        for job in jobs:
            if stop.is_set() or not job.due(time.monotonic()):
                continue
            job.last = time.monotonic()
            try:
                handled[job.name] += job.run(stop)
            except Exception:
                log.exception("worker: the %s pass failed; trying again after a pause", job.name)
                db.session.rollback()
            finally:
                # A fresh session per pass: nothing read in one pass goes stale in the next.
                db.session.remove()
        stop.wait(poll_seconds)
    return handled


def run_until_signalled(name: str, jobs: list[Job], poll_seconds: float) -> dict[str, int]:
    """`work` until SIGTERM or SIGINT (Ctrl-C), finishing the item in hand first."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s: %s received, stopping", name, signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return work(stop, poll_seconds, jobs)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("worker")
@click.option("--poll", "poll_seconds", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes (default GRADE_WORKER_POLL_SECONDS).")
def worker_command(poll_seconds: float | None) -> None:
    """Run every background job (grades, e-mail) until SIGTERM or SIGINT (Ctrl-C)."""
    poll = poll_seconds or current_app.config["GRADE_WORKER_POLL_SECONDS"]
    jobs = every_job()
    database = current_app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    click.echo(f"Worker: {', '.join(j.name for j in jobs)} every {poll:g} s ({database}).")
    handled = run_until_signalled("worker", jobs, poll)
    click.echo("Worker stopped after handling "
               + ", ".join(f"{count} {name}" for name, count in handled.items()) + ".")
