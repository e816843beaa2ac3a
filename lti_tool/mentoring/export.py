"""The cohort as a CSV file that spreadsheets open as it is: UTF-8 with a BOM, one line each."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from lti_tool.mentoring.cohort import Cohort, LearnerRow, Status, grade_state_text
from lti_tool.questionnaire.scoring import display

#: Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"


def csv_lines(cohort: Cohort, rows: Sequence[LearnerRow], locale: str | None) -> Iterator[str]:
    """The export, line by line: a BOM, a header, then one line per learner."""
    dimensions = [dimension.id for dimension in cohort.instrument.dimensions]
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in values])
        return buffer.getvalue()

    header = ["Name", "E-mail", "In course", "Status", "Answered", "Submitted (UTC)", "Overall",
              *(cohort.dimension_name(d, locale) for d in dimensions),
              "Response quality", "Grade sync"]
    yield BOM + line(header)
    for row in rows:
        yield line([
            row.name, row.email or "", "yes" if row.active else "left", row.status.label,
            f"{row.answered} of {row.total}" if row.status is Status.IN_PROGRESS else "",
            f"{row.submitted_dt:%Y-%m-%d %H:%M}" if row.submitted_dt else "",
            display(row.overall) if row.overall is not None else "",
            *(display(row.scores[d]) if d in row.scores else "" for d in dimensions),
            " ".join(row.quality_reasons),
            grade_state_text(row.grade_state) if row.grade_state is not None else "",
        ])


def _cell(value: Any) -> str:
    text = str(value)
    # A cell starting like a formula would run as one in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
