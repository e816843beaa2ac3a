"""The cohort as a CSV file that spreadsheets open as it is: UTF-8 with a BOM, one line each."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from lti_tool.figures import display
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.mentoring.cohort import Cohort, LearnerRow, Status, grade_state_text
from lti_tool.questionnaire.quality_notes import quality_note

#: Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"


def csv_lines(cohort: Cohort, rows: Sequence[LearnerRow], locale: str | None) -> Iterator[str]:
    """The export, line by line: a BOM, a header, then one line per learner."""
    # Every dimension a learner's result has, whichever version it was answered with.
    dimensions = cohort.dimension_ids
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in values])
        return buffer.getvalue()

    # Words in the page's language; numbers and times as spreadsheets read them everywhere.
    header = [_l("Name"), _l("E-mail"), _l("In course"), _l("Status"), _l("Answered"),
              _l("Submitted (UTC)"), _l("Overall"),
              *(cohort.dimension_name(d, locale) for d in dimensions),
              _l("Response quality"), _l("Grade sync")]
    yield BOM + line(header)
    for row in rows:
        yield line([
            row.name, row.email or "", _l("yes") if row.active else _l("left"), row.status.label,
            _l("%(answered)s of %(total)s", answered=row.answered, total=row.total)
            if row.status is Status.IN_PROGRESS else "",
            f"{row.submitted_dt:%Y-%m-%d %H:%M}" if row.submitted_dt else "",
            display(row.overall) if row.overall is not None else "",
            *(display(row.scores[d]) if d in row.scores else "" for d in dimensions),
            " ".join(quality_note(flag, row.result_instrument) for flag in row.quality.flags),
            grade_state_text(row.grade_state) if row.grade_state is not None else "",
        ])


def _cell(value: Any) -> str:
    text = str(value)
    # A cell starting like a formula would run as one in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
