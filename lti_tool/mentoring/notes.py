"""Session notes at three levels: for their author alone, for the course's mentors, for the
learner too.

This module is the only way to notes, and it selects by level in SQL. `learner_notes` is what
every learner-facing page, observer page, export and calendar uses; `mentor_notes` gives a
mentor the learner-level notes, the mentors-level ones when scope.py lets them read those,
and their own author-only notes. So an author-only note cannot reach another mentor, and no
note meant for mentors can reach a learner through a template that happens to walk a
relationship: the session has none to walk.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.booking import session_for_mentor
from lti_tool.mentoring.models import AgendaPart, MentoringSession, Note, NoteVisibility
from lti_tool.mentoring.scope import (
    BadInput,
    NotAllowed,
    NotFound,
    course_of,
    learner_reach,
    require_mentor,
    sees_mentor_notes,
)

MAX_NOTE = 5000


def add_note(launch: LaunchContext, session_id: int, visibility: str | None,
             body: str | None, agenda_part_id: int | None = None) -> Note:
    """A mentor writes a note on a session of the course, at one of the three levels; in
    one of its agenda parts, or on the session as a whole."""
    session = session_for_mentor(launch, session_id)
    if agenda_part_id is not None and db.session.scalar(select(AgendaPart.id).where(
            AgendaPart.id == agenda_part_id, AgendaPart.session_id == session.id)) is None:
        raise NotFound(f"no agenda part {agenda_part_id} in session {session.id}")
    try:
        kind = NoteVisibility(visibility or "")
    except ValueError as exc:
        raise BadInput(_l("Choose who may read the note: only you, the course's mentors, or "
                          "the learner too.")) from exc
    body = (body or "").strip()
    if not body:
        raise BadInput(_l("The note is empty."))
    if len(body) > MAX_NOTE:
        raise BadInput(_l("The note is too long (at most %(most)d characters).", most=MAX_NOTE))
    note = Note(session_id=session.id, author_id=launch.person_id, visibility=kind, body=body,
                agenda_part_id=agenda_part_id)
    db.session.add(note)
    db.session.flush()
    return note


def delete_note(launch: LaunchContext, note_id: int) -> MentoringSession:
    """A mentor deletes a note they wrote; returns its session."""
    require_mentor(launch)
    note = db.session.scalar(
        select(Note).join(Note.session)
        .where(Note.id == note_id, MentoringSession.course_id == course_of(launch),
               learner_reach(launch, MentoringSession.learner_id))
    )
    if note is None or not _readable(launch, note):
        raise NotFound(f"no note {note_id} for person {launch.person_id} in course "
                       f"{launch.course_id}")
    if note.author_id != launch.person_id:
        raise NotAllowed("only the note's author may delete it")
    # The session must be one this mentor may reach (the caseload, when mentors are assigned).
    session = session_for_mentor(launch, note.session_id)
    db.session.delete(note)
    db.session.flush()
    return session


def _readable(launch: LaunchContext, note: Note) -> bool:
    if note.visibility is NoteVisibility.AUTHOR:
        return note.author_id == launch.person_id
    return note.visibility is NoteVisibility.LEARNER or sees_mentor_notes(launch)


def _mentor_levels(launch: LaunchContext):
    """The SQL condition for the notes a mentor may read (see the module docstring)."""
    levels = [Note.visibility == NoteVisibility.LEARNER,
              and_(Note.visibility == NoteVisibility.AUTHOR, Note.author_id == launch.person_id)]
    if sees_mentor_notes(launch):
        levels.append(Note.visibility == NoteVisibility.MENTORS)
    return or_(*levels)


def mentor_notes(launch: LaunchContext, session: MentoringSession) -> list[Note]:
    """The notes of a session that the launch's mentor may read, oldest first."""
    require_mentor(launch)
    if session.course_id != launch.course_id:
        raise NotFound(f"session {session.id} is not in course {launch.course_id}")
    return list(db.session.scalars(
        select(Note).options(joinedload(Note.author))
        .where(Note.session_id == session.id, _mentor_levels(launch))
        .order_by(Note.created_dt, Note.id)
    ))


def learner_notes(session_ids: Iterable[int]) -> dict[int, list[Note]]:
    """Session id → its learner-level notes, oldest first: all a learner or observer gets."""
    return _notes(list(session_ids), Note.visibility == NoteVisibility.LEARNER)


def mentor_only_notes(launch: LaunchContext,
                      session_ids: Iterable[int]) -> dict[int, list[Note]]:
    """Session id → the notes below learner level that the launch's mentor may read."""
    require_mentor(launch)
    ids = list(session_ids)
    inside = set(db.session.scalars(
        select(MentoringSession.id).where(MentoringSession.id.in_(ids),
                                          MentoringSession.course_id == course_of(launch))
    )) if ids else set()
    if inside != set(ids):
        raise NotFound(f"sessions {sorted(set(ids) - inside)} are not in course "
                       f"{launch.course_id}")
    return _notes(ids, and_(Note.visibility != NoteVisibility.LEARNER, _mentor_levels(launch)))


def _notes(ids: list[int], condition) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {session_id: [] for session_id in ids}
    if not ids:
        return found
    for note in db.session.scalars(
        select(Note).options(joinedload(Note.author))
        .where(Note.session_id.in_(ids), condition)
        .order_by(Note.created_dt, Note.id)
    ):
        found[note.session_id].append(note)
    return found
