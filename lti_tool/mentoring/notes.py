"""Session notes: shared notes the learner reads, and private notes for mentors only.

This module is the only way to notes. `shared_notes` is what every learner-facing page,
export and calendar uses, and it selects shared notes in SQL; `mentor_notes` refuses
anyone but a mentor. So a private note cannot reach a learner through a template that
happens to walk a relationship: the session has none to walk.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.booking import session_for_mentor
from lti_tool.mentoring.models import MentoringSession, Note, NoteVisibility
from lti_tool.mentoring.scope import BadInput, NotAllowed, NotFound, course_of, require_mentor

MAX_NOTE = 5000


def add_note(launch: LaunchContext, session_id: int, visibility: str | None,
             body: str | None) -> Note:
    """A mentor writes a note on a session of the course, shared or private."""
    session = session_for_mentor(launch, session_id)
    try:
        kind = NoteVisibility(visibility or "")
    except ValueError as exc:
        raise BadInput(
            _l("Choose whether the note is shared with the learner or private.")) from exc
    body = (body or "").strip()
    if not body:
        raise BadInput(_l("The note is empty."))
    if len(body) > MAX_NOTE:
        raise BadInput(_l("The note is too long (at most %(most)d characters).", most=MAX_NOTE))
    note = Note(session_id=session.id, author_id=launch.person_id, visibility=kind, body=body)
    db.session.add(note)
    db.session.flush()
    return note


def delete_note(launch: LaunchContext, note_id: int) -> MentoringSession:
    """A mentor deletes a note they wrote; returns its session."""
    require_mentor(launch)
    note = db.session.scalar(
        select(Note).join(Note.session)
        .where(Note.id == note_id, MentoringSession.course_id == course_of(launch))
    )
    if note is None:
        raise NotFound(f"no note {note_id} in course {launch.course_id}")
    if note.author_id != launch.person_id:
        raise NotAllowed("only the note's author may delete it")
    session = note.session
    db.session.delete(note)
    db.session.flush()
    return session


def mentor_notes(launch: LaunchContext, session: MentoringSession) -> list[Note]:
    """Every note of a session (private ones included), for a mentor of its course."""
    require_mentor(launch)
    if session.course_id != launch.course_id:
        raise NotFound(f"session {session.id} is not in course {launch.course_id}")
    return list(db.session.scalars(
        select(Note).options(joinedload(Note.author))
        .where(Note.session_id == session.id).order_by(Note.created_dt, Note.id)
    ))


def shared_notes(session_ids: Iterable[int]) -> dict[int, list[Note]]:
    """Session id → its shared notes, oldest first: all a learner ever gets of notes."""
    return _notes(list(session_ids), NoteVisibility.SHARED)


def private_notes(launch: LaunchContext, session_ids: Iterable[int]) -> dict[int, list[Note]]:
    """Session id → its private notes, for a mentor of the sessions' course."""
    require_mentor(launch)
    ids = list(session_ids)
    inside = set(db.session.scalars(
        select(MentoringSession.id).where(MentoringSession.id.in_(ids),
                                          MentoringSession.course_id == course_of(launch))
    )) if ids else set()
    if inside != set(ids):
        raise NotFound(f"sessions {sorted(set(ids) - inside)} are not in course "
                       f"{launch.course_id}")
    return _notes(ids, NoteVisibility.PRIVATE)


def _notes(ids: list[int], visibility: NoteVisibility) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {session_id: [] for session_id in ids}
    if not ids:
        return found
    for note in db.session.scalars(
        select(Note).options(joinedload(Note.author))
        .where(Note.session_id.in_(ids), Note.visibility == visibility)
        .order_by(Note.created_dt, Note.id)
    ):
        found[note.session_id].append(note)
    return found
