"""Which kinds of e-mail a person gets: every kind unless they turned it off."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from lti_tool.extensions import db
from lti_tool.identity.models import Person
from lti_tool.notifications.kinds import Kind, kind_named
from lti_tool.notifications.models import MailPreference


def turned_off(person_id: int) -> set[Kind]:
    """The kinds this person does not get."""
    names = db.session.scalars(
        select(MailPreference.kind).where(MailPreference.person_id == person_id))
    # A kind no longer sent leaves a harmless row behind.
    return {kind for kind in map(kind_named, names) if kind is not None}


def turn_off(person_id: int, kind: Kind, source: str = "page") -> None:
    """Stop this kind for the person (twice is harmless)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(MailPreference).values(person_id=person_id, kind=kind.value, source=source)
        .on_conflict_do_nothing(index_elements=["person_id", "kind"]))


def save_choice(person: Person, wanted: set[Kind]) -> None:
    """Keep the kinds in `wanted` coming and turn every other kind off (flush)."""
    db.session.execute(delete(MailPreference).where(
        MailPreference.person_id == person.id,
        MailPreference.kind.in_([k.value for k in wanted])))
    for kind in Kind:
        if kind not in wanted:
            turn_off(person.id, kind)
    db.session.flush()
