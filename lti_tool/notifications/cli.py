"""`flask notifications send|worker|status`: the mail outbox from the command line."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.notifications import sender
from lti_tool.notifications.models import MailStatus, Notification


@click.group("notifications")
def notifications_cli() -> None:
    """E-mails on their way to people."""


@notifications_cli.command("send")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Send at most this many messages.")
def notifications_send(limit: int | None) -> None:
    """Send every e-mail that is due now, once, and say how it went."""
    if not current_app.config.get("MAIL_HOST"):
        raise click.ClickException("MAIL_HOST is not set: there is no mail server to send to.")
    report = sender.send_due(limit=limit)
    click.echo(f"{report.handled} e-mail(s): {report.sent} sent, {report.retrying} to retry "
               f"later, {report.failed} failed, {report.skipped} skipped, "
               f"{report.uncertain} uncertain.")


@notifications_cli.command("status")
def notifications_status() -> None:
    """How many e-mails are in each state, and the ones an operator should look at."""
    counts = dict(db.session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)).all())
    click.echo(", ".join(f"{status.value}: {counts.get(status, 0)}" for status in MailStatus))
    for row in db.session.scalars(
            select(Notification).where(Notification.status.in_(
                [MailStatus.FAILED, MailStatus.UNCERTAIN])).order_by(Notification.id)):
        click.echo(f"#{row.id} {row.status.value} {row.kind} person {row.recipient_id} "
                   f"{row.message_id}: {row.last_error}")
