"""`flask grades sync` (one delivery pass) and `flask grades worker` (deliver until stopped)."""

from __future__ import annotations

import click
from flask import current_app

from lti_tool.gradebook import sync


@click.group("grades")
def grades_cli() -> None:
    """Scores on their way to the LMS gradebooks."""


@grades_cli.command("sync")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Deliver at most this many scores.")
def grades_sync(limit: int | None) -> None:
    """Deliver every score that is due now, once, and say how it went."""
    report = sync.deliver_due(limit=limit)
    click.echo(
        f"{report.handled} score(s): {report.sent} sent, {report.retrying} to retry later, "
        f"{report.failed} failed, {report.superseded} superseded."
    )


@grades_cli.command("worker")
@click.option("--poll", "poll_seconds", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between looks for due scores (default GRADE_WORKER_POLL_SECONDS).")
def grades_worker(poll_seconds: float | None) -> None:
    """Deliver scores as they become due, until SIGTERM or SIGINT (Ctrl-C).

    `flask worker`'s loop with its grades job alone. On SQLite run one worker only; on
    PostgreSQL any number may run side by side.
    """
    from lti_tool import worker

    poll = poll_seconds or current_app.config["GRADE_WORKER_POLL_SECONDS"]
    database = current_app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    click.echo(f"Grades worker: looking for due scores every {poll:g} s ({database}).")
    grades = [job for job in worker.every_job() if job.name == "grades"]
    handled = worker.run_until_signalled("grades worker", grades, poll)
    click.echo(f"Grades worker stopped after handling {handled['grades']} score(s).")
