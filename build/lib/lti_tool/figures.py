"""How a number is written for people, in one place: every score the tool shows or sends
(pages, CSV, PDF, the LMS grade comment) goes through `display` or `score_text`.

Rounding is half up on the decimal value people see ("6.25" → "6.3", never "6.2" as binary
half-to-even formatting would give), and Polish writes a decimal comma ("6,3").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import has_request_context
from flask_babel import get_locale

#: The minus sign and the plus-minus sign people read (a hyphen is not a minus).
MINUS = "−"
PLUS_MINUS = "±"


def display(value: float, locale: str | None = None, digits: int = 1) -> str:
    """A number for people to read: rounded half up, with a decimal comma in Polish ("7,5")."""
    # repr is the shortest decimal that reads back as this float: 6.25 stays 6.25, and
    # 0.1 + 0.2 (0.30000000000000004) is not rounded as if it were 0.3 exactly.
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    # "-0.0" says nothing "0.0" does not.
    text = f"{abs(exact) if exact.is_zero() else exact:.{digits}f}"
    if _language(locale) == "pl":
        return text.replace(".", ",")
    return text


def score_text(value: float, locale: str | None = None, sem: float | None = None) -> str:
    """A score as "5.8", or with its measurement error as "5.8 (±0.9)"."""
    shown = display(value, locale)
    if sem is None:
        return shown
    return f"{shown} ({PLUS_MINUS}{display(sem, locale)})"


def signed_text(value: float, locale: str | None = None) -> str:
    """A change with its sign, as people write it: "+1.2", "−0.4" (a minus, not a hyphen), "0.0"."""
    shown = display(value, locale)
    if shown.startswith("-"):
        return MINUS + shown[1:]
    return shown if shown.strip("0.,") == "" else f"+{shown}"


def page_score(value: float | None, sem: float | None = None) -> str:
    """The template filter `score`: a score in the page's language; "—" for none."""
    if value is None:
        return "—"
    return score_text(value, _page_locale(), sem)


def _page_locale() -> str | None:
    if not has_request_context():
        return None
    locale = get_locale()
    return str(locale) if locale is not None else None


def _language(locale: str | None) -> str:
    return (locale or "").replace("_", "-").lower().split("-")[0]
