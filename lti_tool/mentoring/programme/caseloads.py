"""Who mentors whom: the course's caseload mode, assignments by hand, by CSV and balanced.

Only the course's lead mentor changes any of it (scope.require_lead). What an assignment lets
a mentor see is decided in scope.py, not here. Services add and flush; the view commits.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Membership, MentorKind, Person, Role
from lti_tool.lti.roles import mentor_kind
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.programme.models import (
    AssignmentSource,
    CaseloadMode,
    MentorAssignment,
    ProgrammeSettings,
)
from lti_tool.mentoring.scope import (
    BadInput,
    NotFound,
    course_learners,
    course_of,
    programme_settings,
    reaches_whole_course,
    remember_programme_settings,
    require_lead,
)

#: The largest assignment file accepted, and the most rows in it.
#: Below the request limit (MAX_CONTENT_LENGTH, 256 KB) so the tool, not the server, answers.
MAX_CSV_BYTES = 200 * 1024
MAX_CSV_ROWS = 5000
#: Header cells that name the columns (in any case); a first row of these is skipped.
HEADER_WORDS = {"learner", "mentor", "uczestnik", "mentorka", "student"}


@dataclass(frozen=True)
class CohortScope:
    """What the mentor's cohort page shows: their caseload or the whole course."""

    #: The course assigns mentors to learners.
    assigned: bool
    caseload_only: bool
    #: The mentor may switch between their caseload and the whole course.
    can_switch: bool


def cohort_scope(launch: LaunchContext, wanted: str | None) -> CohortScope:
    """The cohort page's scope: in "assigned" mode it opens on the mentor's caseload (when they
    have one), with a switch to the whole course where they may see it."""
    if launch.course_id is None:
        return CohortScope(False, False, False)
    settings = programme_settings(launch.course_id)
    if settings.mode is not CaseloadMode.ASSIGNED:
        return CohortScope(False, False, False)
    whole = reaches_whole_course(launch)
    has_caseload = db.session.scalar(select(MentorAssignment.id).where(
        MentorAssignment.course_id == launch.course_id,
        MentorAssignment.mentor_id == launch.person_id).limit(1)) is not None
    if not whole:
        return CohortScope(True, True, False)
    caseload_only = wanted == "caseload" or (wanted != "course" and has_caseload)
    return CohortScope(True, caseload_only, True)


def save_settings(launch: LaunchContext, mode: str | None, assistants_see_course: bool
                  ) -> ProgrammeSettings:
    """The lead mentor sets the course's caseload mode."""
    require_lead(launch)
    try:
        chosen = CaseloadMode(mode or "")
    except ValueError as exc:
        raise BadInput(_l("Choose whether every mentor sees every learner or mentors are "
                          "assigned.")) from exc
    settings = programme_settings(course_of(launch))
    settings.mode = chosen
    settings.assistants_see_course = assistants_see_course
    db.session.add(settings)
    db.session.flush()
    remember_programme_settings(settings)
    return settings


def course_mentors(course_id: int) -> list[Person]:
    """The course's mentors who can take a caseload (not site administrators), by name."""
    memberships = db.session.scalars(
        select(Membership).options(joinedload(Membership.person))
        .where(Membership.course_id == course_id, Membership.role == Role.MENTOR,
               Membership.active.is_(True))
    ).all()
    people = [m.person for m in memberships if mentor_kind(m.roles) is not MentorKind.SITE_ADMIN]
    return sorted(people, key=lambda person: (person.display_name.casefold(), person.id))


def assignments(course_id: int) -> list[MentorAssignment]:
    """Every assignment of the course."""
    return list(db.session.scalars(
        select(MentorAssignment)
        .options(joinedload(MentorAssignment.mentor), joinedload(MentorAssignment.learner))
        .where(MentorAssignment.course_id == course_id)
        .order_by(MentorAssignment.id)
    ))


def mentors_of(course_id: int, learner_id: int) -> list[Person]:
    """The mentors assigned to a learner in a course, by name (what the learner is shown)."""
    people = db.session.scalars(
        select(Person).join(MentorAssignment, MentorAssignment.mentor_id == Person.id)
        .where(MentorAssignment.course_id == course_id,
               MentorAssignment.learner_id == learner_id)
    ).all()
    return sorted(people, key=lambda person: (person.display_name.casefold(), person.id))


def assign(launch: LaunchContext, learner_id: int | None, mentor_id: int | None,
           source: AssignmentSource = AssignmentSource.HAND) -> MentorAssignment:
    """Assign a mentor of the course to a learner of the course (again is harmless)."""
    require_lead(launch)
    course_id = course_of(launch)
    learner = _member(course_id, learner_id, {p.id: p for p in course_learners(course_id)})
    mentor = _member(course_id, mentor_id, {p.id: p for p in course_mentors(course_id)})
    return _add(course_id, learner.id, mentor.id, source, launch.person_id)


def unassign(launch: LaunchContext, assignment_id: int) -> None:
    """Take one assignment back."""
    require_lead(launch)
    found = db.session.scalar(select(MentorAssignment).where(
        MentorAssignment.id == assignment_id, MentorAssignment.course_id == course_of(launch)))
    if found is None:
        raise NotFound(f"no assignment {assignment_id} in course {launch.course_id}")
    db.session.delete(found)
    db.session.flush()


def _member(course_id: int, person_id: int | None, people: dict[int, Person]) -> Person:
    if person_id is None or person_id not in people:
        raise NotFound(f"person {person_id} cannot be assigned in course {course_id}")
    return people[person_id]


def _add(course_id: int, learner_id: int, mentor_id: int, source: AssignmentSource,
         by_id: int) -> MentorAssignment:
    found = db.session.scalar(select(MentorAssignment).where(
        MentorAssignment.course_id == course_id, MentorAssignment.learner_id == learner_id,
        MentorAssignment.mentor_id == mentor_id))
    if found is None:
        found = MentorAssignment(course_id=course_id, learner_id=learner_id, mentor_id=mentor_id,
                                 source=source, assigned_by_id=by_id)
        db.session.add(found)
        db.session.flush()
    return found


class CsvRejected(BadInput):
    """The assignment file cannot be used; `problems` names each bad row."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(_l("Nothing was assigned: the file has %(count)d problem(s).",
                            count=len(problems)))


def import_csv(launch: LaunchContext, data: bytes) -> int:
    """Assign from a CSV file of (learner identifier, mentor identifier) rows, all or nothing.

    An identifier is the person's user id on the platform or their e-mail address. Returns
    how many new assignments were made; CsvRejected names every bad row.
    """
    require_lead(launch)
    course_id = course_of(launch)
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected([str(_l("The file is larger than %(kb)d KB.",
                                  kb=MAX_CSV_BYTES // 1024))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected([str(_l("The file is not UTF-8 text. Save it as CSV UTF-8."))]) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [(number, row) for number, row in enumerate(rows, start=1)
            if any(cell.strip() for cell in row)]
    if rows and {cell.strip().casefold() for cell in rows[0][1]} & HEADER_WORDS:
        rows = rows[1:]
    if not rows:
        raise CsvRejected([str(_l("The file has no rows."))])
    if len(rows) > MAX_CSV_ROWS:
        raise CsvRejected([str(_l("The file has more than %(most)d rows.", most=MAX_CSV_ROWS))])
    learners = _directory(course_learners(course_id))
    mentors = _directory(course_mentors(course_id))
    problems, pairs = [], []
    for number, row in rows:
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) != 2 or not all(cells):
            problems.append(str(_l("Row %(row)d: expected two values, a learner and a mentor.",
                                   row=number)))
            continue
        learner, problem = _find(learners, cells[0])
        if problem:
            problems.append(str(_l("Row %(row)d: learner %(who)s: %(problem)s", row=number,
                                   who=_quoted(cells[0]), problem=problem)))
        mentor, problem = _find(mentors, cells[1])
        if problem:
            problems.append(str(_l("Row %(row)d: mentor %(who)s: %(problem)s", row=number,
                                   who=_quoted(cells[1]), problem=problem)))
        if learner and mentor:
            pairs.append((learner.id, mentor.id))
    if problems:
        raise CsvRejected(problems)
    existing = {(a.learner_id, a.mentor_id) for a in assignments(course_id)}
    made = 0
    for learner_id, mentor_id in dict.fromkeys(pairs):
        if (learner_id, mentor_id) not in existing:
            _add(course_id, learner_id, mentor_id, AssignmentSource.CSV, launch.person_id)
            made += 1
    return made


def _quoted(value: str) -> str:
    return "“" + (value if len(value) <= 60 else value[:57] + "…") + "”"


def _directory(people: Iterable[Person]) -> dict[str, list[Person]]:
    """Identifier (user id, or e-mail address in lower case) → the people it names."""
    found: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        found[person.sub].append(person)
        if person.email:
            found[person.email.casefold()].append(person)
    return found


def _find(directory: dict[str, list[Person]], identifier: str) -> tuple[Person | None, str]:
    people = directory.get(identifier) or directory.get(identifier.casefold()) or []
    unique = {person.id: person for person in people}
    if not unique:
        return None, str(_l("nobody with this user id or e-mail address in the course"))
    if len(unique) > 1:
        return None, str(_l("more than one person has this e-mail address; use the user id"))
    return next(iter(unique.values())), ""


def balance(launch: LaunchContext, mentor_ids: Iterable[int]) -> int:
    """Give every learner without a mentor one of these mentors, fewest learners first.

    Deterministic: learners in name order, each to the chosen mentor with the smallest
    caseload at that moment (ties: by name, then id). Returns how many were assigned.
    """
    require_lead(launch)
    course_id = course_of(launch)
    chosen = [m for m in course_mentors(course_id) if m.id in set(mentor_ids)]
    if not chosen:
        raise BadInput(_l("Choose at least one mentor to share the learners among."))
    current = assignments(course_id)
    load = Counter(a.mentor_id for a in current)
    assigned = {a.learner_id for a in current}
    rank = {mentor.id: index for index, mentor in enumerate(chosen)}
    made = 0
    for learner in course_learners(course_id):
        if learner.id in assigned:
            continue
        mentor = min(chosen, key=lambda m: (load[m.id], rank[m.id]))
        _add(course_id, learner.id, mentor.id, AssignmentSource.BALANCED, launch.person_id)
        load[mentor.id] += 1
        made += 1
    return made
