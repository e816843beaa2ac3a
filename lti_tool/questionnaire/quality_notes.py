"""Response-quality flags said in the reader's language.

A result stores its flags as data (scoring.QualityFlag: kind, page, seconds, value, ...); each
reader gets them as sentences in their page's language (Flask-Babel), with the instrument's
own words (scale labels, page titles, statements) from the version the response was answered
with. Nothing here reads a sentence back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from lti_tool.questionnaire.instrument import Instrument, UnknownInstrument
from lti_tool.questionnaire.scoring import FlagKind, QualityFlag
from lti_tool.questionnaire.versions import get_instrument


def quality_notes(flags: Iterable[QualityFlag | Mapping[str, Any]],
                  instrument: Instrument | None) -> tuple[str, ...]:
    """Each flag as one sentence in the current page's language."""
    return tuple(quality_note(flag, instrument) for flag in flags)


def quality_note(flag: QualityFlag | Mapping[str, Any], instrument: Instrument | str | None = None
                 ) -> str:
    """One flag as a sentence in the current page's language (the template filter too).

    `instrument` is the version the response was answered with, or its key
    ("design_mindset@1"); without it, numbers stand in for the instrument's words.
    """
    if not isinstance(flag, QualityFlag):
        flag = QualityFlag.from_dict(flag)
    if isinstance(instrument, str):
        instrument = _by_key(instrument)
    locale = get_locale()
    language = locale.language if locale is not None else "en"
    if flag.kind is FlagKind.ATTENTION_CHECK:
        expected = flag.expected
        if expected is None:
            # Converted from an older wording that did not say what was asked.
            return _("Attention check %(check)s got another answer than it asked for.",
                     check=flag.item)
        if flag.value is None:
            return _("Attention check %(check)s asked for %(expected)d (%(expected_label)s) and "
                     "got no answer.", check=flag.item, expected=expected,
                     expected_label=_label(instrument, expected, language))
        return _("Attention check %(check)s asked for %(expected)d (%(expected_label)s) and got "
                 "%(given)d (%(given_label)s).", check=flag.item, expected=expected,
                 expected_label=_label(instrument, expected, language), given=flag.value,
                 given_label=_label(instrument, flag.value, language))
    if flag.kind is FlagKind.STRAIGHT_LINING:
        if flag.count is None or flag.of is None or flag.value is None:
            return _("Page %(page)d (%(title)s): (nearly) the same answer to every statement.",
                     page=flag.page + 1, title=_title(instrument, flag.page, language))
        return _("Page %(page)d (%(title)s): %(same)d of %(count)d statements got the same "
                 "answer, %(value)d (%(label)s).", page=flag.page + 1,
                 title=_title(instrument, flag.page, language), same=flag.count,
                 count=flag.of, value=flag.value,
                 label=_label(instrument, flag.value, language))
    if flag.kind is FlagKind.TOO_FAST:
        if flag.seconds is None or flag.count is None or flag.minimum is None:
            return _("Page %(page)d (%(title)s) was answered too fast to have been read.",
                     page=flag.page + 1, title=_title(instrument, flag.page, language))
        return _("Page %(page)d (%(title)s) took %(seconds)s s for %(count)d statements, under "
                 "%(minimum)s s each.", page=flag.page + 1,
                 title=_title(instrument, flag.page, language),
                 seconds=format_decimal(flag.seconds, "0.0"), count=flag.count,
                 minimum=format_decimal(flag.minimum, "0.0##"))
    return _("Page %(page)d (%(title)s): strong agreement both with “%(statement)s” "
             "(%(value)s, %(label)s) and with its opposite, “%(twin)s” (%(twin_value)s, "
             "%(twin_label)s).", page=flag.page + 1,
             title=_title(instrument, flag.page, language),
             statement=_statement(instrument, flag.twin, language), value=flag.twin_value,
             label=_label(instrument, flag.twin_value, language),
             twin=_statement(instrument, flag.item, language), twin_value=flag.value,
             twin_label=_label(instrument, flag.value, language))


def _by_key(key: str) -> Instrument | None:
    instrument_id, _at, version = key.rpartition("@")
    try:
        return get_instrument(instrument_id, int(version))
    except (UnknownInstrument, ValueError):
        return None


def _label(instrument: Instrument | None, value: int | None, language: str) -> str:
    if instrument is None or value not in instrument.scale.points:
        return "?" if value is None else str(value)
    return instrument.scale.label(value).get(language)


def _title(instrument: Instrument | None, page: int | None, language: str) -> str:
    if instrument is None or page is None or not 0 <= page < len(instrument.areas):
        return "?"
    return instrument.areas[page].title.get(language)


def _statement(instrument: Instrument | None, item_id: str | None, language: str) -> str:
    if instrument is None or item_id is None:
        return item_id or "?"
    try:
        return instrument.item(item_id).text.get(language)
    except KeyError:
        return item_id
