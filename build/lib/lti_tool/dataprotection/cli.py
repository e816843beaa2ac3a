"""`flask data export|erase|purge|audit`: the operator's data-protection commands."""

from __future__ import annotations

import json

import click
from flask import current_app
from sqlalchemy import or_, select

from lti_tool.dataprotection import personal_data
from lti_tool.extensions import db
from lti_tool.identity.audit import AuditEntry
from lti_tool.identity.models import Person, Platform


@click.group("data")
def data_cli() -> None:
    """Personal data: export, erase, retention, audit log."""


def _person(person_id: int | None, issuer: str | None, sub: str | None) -> Person:
    if person_id is not None:
        person = db.session.get(Person, person_id)
    elif issuer and sub:
        person = db.session.scalar(select(Person).join(Platform).where(
            Platform.issuer == issuer, Person.sub == sub))
    else:
        raise click.UsageError("name the person with --person ID, or --issuer and --sub")
    if person is None or person.sub.startswith(personal_data.ERASED_PREFIX):
        raise click.ClickException("No such person.")
    return person


def _person_options(command):
    command = click.option("--sub", help="The person's LMS user id (with --issuer).")(command)
    command = click.option("--issuer", help="The platform's issuer (with --sub).")(command)
    return click.option("--person", "person_id", type=int, help="The tool's person id.")(command)


@data_cli.command("export")
@_person_options
@click.option("--output", type=click.File("w"), default="-", help="File (default: stdout).")
def data_export(person_id, issuer, sub, output) -> None:
    """Write all of a person's data as JSON."""
    person = _person(person_id, issuer, sub)
    document = personal_data.export_person(person.id)
    personal_data.audit.record("data.export", subject_person_id=person.id,
                               detail={"by": "operator"})
    db.session.commit()
    json.dump(document, output, indent=2, ensure_ascii=False)
    output.write("\n")


@data_cli.command("erase")
@_person_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def data_erase(person_id, issuer, sub, yes) -> None:
    """Erase a person's answers, results, goals, notes and identity (an audit entry stays)."""
    person = _person(person_id, issuer, sub)
    if not yes:
        click.confirm(f"Erase every record of {person.display_name} "
                      f"({person.platform.issuer}, sub {person.sub})?", abort=True)
    counts = personal_data.erase_person(person.id, operator="flask data erase")
    db.session.commit()
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    click.echo(f"Erased person {person_id or person.id}: {summary or 'no records but identity'}.")
    click.echo("Scores already sent to the LMS gradebook stay there: remove them in the LMS.")


@data_cli.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Retention in days (default ATTEMPT_RETENTION_DAYS).")
def data_purge(days) -> None:
    """Delete questionnaire attempts older than the retention period."""
    days = days or current_app.config["ATTEMPT_RETENTION_DAYS"]
    purged = personal_data.purge_old_attempts(days)
    db.session.commit()
    click.echo(f"Purged {purged} attempt(s) started more than {days} days ago.")


@data_cli.command("audit")
@_person_options
@click.option("--limit", type=int, default=100)
def data_audit(person_id, issuer, sub, limit) -> None:
    """Show the audit log about (or by) a person, newest first."""
    person = _person(person_id, issuer, sub)
    entries = db.session.scalars(
        select(AuditEntry).where(or_(AuditEntry.subject_person_id == person.id,
                                     AuditEntry.actor_person_id == person.id))
        .order_by(AuditEntry.id.desc()).limit(limit))
    for entry in entries:
        click.echo(f"{entry.created_dt:%Y-%m-%d %H:%M:%S} UTC  {entry.action}  "
                   f"by {entry.actor_person_id or 'operator'}  about {entry.subject_person_id}  "
                   f"course {entry.course_id}")
