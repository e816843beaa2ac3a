"""The response-quality notes stored with a result, in the reader's language.

scoring.assess_quality writes each note as an English sentence, and a result keeps its notes
as written, so a mentor and a learner reading in other languages share one record. The three
kinds of sentence are read back here and said again in the page's language (Flask-Babel),
with the instrument's own words (scale labels, area titles) in that language too. A note that
matches none of them (an older wording) is shown as stored.
"""

from __future__ import annotations

import re

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.versions import current_instrument

_ATTENTION = re.compile(
    r"Attention check (?P<check>\S+) asked for (?P<expected>-?\d+) \(.*?\) and got "
    r"(?:no answer|(?P<given>-?\d+) \(.*\))\."
)
_SAME_ANSWER = re.compile(
    r"Page (?P<page>\d+) \((?P<title>.*)\): (?P<same>\d+) of (?P<count>\d+) statements got the "
    r"same answer, (?P<value>-?\d+) \(.*\)\."
)
_TOO_FAST = re.compile(
    r"Page (?P<page>\d+) \((?P<title>.*)\) took (?P<seconds>[\d.]+) s for (?P<count>\d+) "
    r"statements, under (?P<minimum>[\d.]+) s each\."
)


def quality_note(note: str) -> str:
    """One stored quality note in the current page's language."""
    locale = get_locale()
    language = locale.language if locale is not None else "en"
    if language == "en":
        return note
    instrument = current_instrument()
    if found := _ATTENTION.fullmatch(note):
        expected = int(found["expected"])
        if found["given"] is None:
            return _("Attention check %(check)s asked for %(expected)d (%(expected_label)s) and "
                     "got no answer.", check=found["check"], expected=expected,
                     expected_label=_label(instrument, expected, language))
        given = int(found["given"])
        return _("Attention check %(check)s asked for %(expected)d (%(expected_label)s) and got "
                 "%(given)d (%(given_label)s).", check=found["check"], expected=expected,
                 expected_label=_label(instrument, expected, language), given=given,
                 given_label=_label(instrument, given, language))
    if found := _SAME_ANSWER.fullmatch(note):
        page, value = int(found["page"]), int(found["value"])
        return _("Page %(page)d (%(title)s): %(same)d of %(count)d statements got the same "
                 "answer, %(value)d (%(label)s).", page=page,
                 title=_title(instrument, page, found["title"], language),
                 same=int(found["same"]), count=int(found["count"]), value=value,
                 label=_label(instrument, value, language))
    if found := _TOO_FAST.fullmatch(note):
        page = int(found["page"])
        return _("Page %(page)d (%(title)s) took %(seconds)s s for %(count)d statements, under "
                 "%(minimum)s s each.", page=page,
                 title=_title(instrument, page, found["title"], language),
                 seconds=format_decimal(float(found["seconds"]), "0.0"),
                 count=int(found["count"]),
                 minimum=format_decimal(float(found["minimum"]), "0.0##"))
    return note


def _label(instrument: Instrument, value: int, language: str) -> str:
    if value not in instrument.scale.points:
        return str(value)
    return instrument.scale.label(value).get(language)


def _title(instrument: Instrument, page: int, stored: str, language: str) -> str:
    areas = instrument.areas
    if 1 <= page <= len(areas) and areas[page - 1].title.get() == stored:
        return areas[page - 1].title.get(language)
    return stored
