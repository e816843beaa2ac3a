"""Which language a page speaks: English or Polish, chosen per request by Flask-Babel.

The launch's `launch_presentation.locale` ("pl", "pl-PL", "pl_PL") decides; without one, or
with a language the tool does not speak, the browser's Accept-Language does; then English.
Pages without a launch (errors, registration, session ended) follow the browser.

The catalogs live in `lti_tool/translations/<lang>/LC_MESSAGES/messages.po`; their `.mo` files
are not committed. `make install` compiles them (`pybabel compile`), and start-up compiles any
that is missing or older than its `.po`, so a fresh clone or a plain `pip install -e .` works
too; a built wheel carries them (setup.py compiles them into it), so a read-only install
does. `make messages` extracts new strings into `messages.pot` and merges them into the `.po`.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request
from flask_babel import force_locale, get_locale, get_translations, gettext, refresh
from flask_babel.speaklater import LazyString
from markupsafe import escape

from lti_tool.extensions import babel

log = logging.getLogger(__name__)
#: The languages the tool speaks; the first is the default.
LANGUAGES = ("en", "pl")
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
#: The named formats of Flask-Babel's `dateformat`/`datetimeformat` filters, one pattern for
#: every language (CLDR names the months and days): day before month, a 24-hour clock.
#: "3 March 2026" / "3 marca 2026"; "3 Mar 2026, 14:05" / "3 mar 2026, 14:05".
DATE_FORMATS = {
    "date.medium": "d MMM y",
    "date.long": "d MMMM y",
    "datetime.medium": "d MMM y, HH:mm",
    "datetime.long": "d MMM y, HH:mm:ss",
}


class LazyText(LazyString):
    """A message translated when it is shown, in the language of the page showing it.

    Flask-Babel's LazyString declares itself safe HTML (its `__html__` is its text), so a
    template would print a message holding user input unescaped; this one is escaped like
    any other text.
    """

    def __html__(self) -> str:
        return str(escape(str(self)))


def format_day(moment: datetime) -> str:
    """A UTC moment's day as `format_date(moment, "medium")` writes it in the page's language
    ("3 Mar 2026"): worked out once per day and language, as a cohort page writes the day of
    each of its 50 learners."""
    return _day_text(moment.date(), get_locale())


@lru_cache(maxsize=1024)
def _day_text(day: date, locale: Locale | None) -> str:
    # Flask-Babel's time zone is UTC (no selector): the stored UTC date is the one shown.
    return dates.format_date(day, DATE_FORMATS["date.medium"], locale=locale)


def lazy_gettext(string: str, **variables: object) -> LazyText:
    """`gettext` when the message is shown: for module-level texts and services' messages."""
    return LazyText(gettext, string, **variables)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the tool's locale choice, and make sure the catalogs are compiled."""
    compile_catalogs(TRANSLATIONS_DIR)
    babel.init_app(
        app, default_locale=LANGUAGES[0], default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=select_locale,
    )
    babel.date_formats.update(DATE_FORMATS)
    # A test may run several requests in one app context: each one chooses afresh.
    app.before_request(refresh)

    app.add_template_filter(translated)

    @app.context_processor
    def _page_language():
        return {"page_language": str(get_locale() or LANGUAGES[0])}


def language_of(locale: str | None) -> str | None:
    """The tool's language for a locale tag ("pl-PL", "pl_PL" → "pl"), or None if it has none."""
    language = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return language if language in LANGUAGES else None


def page_language(launch_locale: str | None) -> str:
    """The language of a page: the launch's, else the browser's best match, else English."""
    chosen = language_of(launch_locale)
    if chosen is None and has_request_context():
        chosen = request.accept_languages.best_match(LANGUAGES)
    return chosen or LANGUAGES[0]


def select_locale() -> str:
    """Flask-Babel's locale selector: the current launch's language (see page_language)."""
    launch = g.get("launch") if has_request_context() else None
    return page_language(launch.locale if launch is not None else None)


def in_launch_language(launch_locale: str | None):
    """A context in which pages speak a launch's language before `g.launch` exists."""
    return force_locale(page_language(launch_locale))


def translated(text: str | None) -> str | None:
    """A message stored as written in English (a background job's, e.g. why grades cannot
    reach the LMS) in the page's language when the catalog has it; other text unchanged."""
    return get_translations().ugettext(text) if text else text


def english(text: object) -> str:
    """A message in English whatever the page's language: logs are read in one language."""
    with force_locale(LANGUAGES[0]):
        return str(text)


def compile_catalogs(directory: Path) -> None:
    """Compile every `.po` under `directory` whose `.mo` is missing or older than it.

    Written to a temporary file and renamed, so that several workers starting at once never
    read half a catalog. A read-only install keeps whatever `.mo` it has (English if none).
    """
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            temporary = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
            with temporary.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(temporary, mo_path)
        except OSError as exc:
            if mo_path.exists():
                # A read-only install: keep the catalog compiled when the wheel was built.
                log.info("could not recompile %s (%s): using %s", po_path, exc, mo_path.name)
            else:
                log.warning("could not compile %s (%s): its language falls back to English",
                            po_path, exc)
