"""Person's display-name rules, in one place for pages, lists and the database.

The name is `name`, else given and family name joined by a space, else the pseudonym
("Learner 7F3A": the first four hex digits of SHA-256 of "platform_id:sub", upper case).

Lists search and sort people by name in SQL (a page of 50 out of thousands), so every
person row keeps its display name casefolded, `Person.name_key`, written with the row
(models.py keeps it on every ORM write and as the column's default; bulk updates pass it).
Both databases then compare exactly what Python compares: the casefolded name, by code
point. E-mail addresses are casefolded in the query itself (`casefold`): `lower()` on
PostgreSQL, Python's `str.casefold` registered as a function on SQLite.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_CASEFOLD = "dmd_casefold"


def pseudonym(platform_id: int, sub: str) -> str:
    """A stable stand-in name for when the platform withholds names: 'Learner 7F3A'."""
    digest = hashlib.sha256(f"{platform_id}:{sub}".encode()).hexdigest()
    return f"Learner {digest[:4].upper()}"


def display_name_of(platform_id: int, sub: str, name: str | None, given_name: str | None,
                    family_name: str | None) -> str:
    """The person's name as the platform shared it, else the pseudonym."""
    full = " ".join(part for part in (given_name, family_name) if part)
    return name or full or pseudonym(platform_id, sub)


def name_key_of(platform_id: int, sub: str, name: str | None, given_name: str | None,
                family_name: str | None) -> str:
    """The display name as lists sort and search it (Person.name_key): casefolded."""
    return display_name_of(platform_id, sub, name, given_name, family_name).casefold()


class _Casefold(FunctionElement):
    """SQL for str.casefold() (lower() on PostgreSQL)."""

    type = String()
    name = "casefold"
    inherit_cache = True


@compiles(_Casefold)
def _casefold_sqlite(element, compiler, **kw):
    return f"{SQLITE_CASEFOLD}({compiler.process(element.clauses, **kw)})"


@compiles(_Casefold, "postgresql")
def _casefold_postgresql(element, compiler, **kw):
    # Compared by code point, as Python compares strings, whatever the database's locale.
    return f'(lower({compiler.process(element.clauses, **kw)}) COLLATE "C")'


def casefold(expression) -> ColumnElement[str]:
    """An SQL expression: the text casefolded, as Python's str.casefold() (lower() on
    PostgreSQL: they differ only for a few letters, ß → "ss" in Python only)."""
    return _Casefold(expression)


class _ByCodePoint(FunctionElement):
    """Text compared by code point: SQLite's default; COLLATE "C" on PostgreSQL."""

    type = String()
    name = "by_code_point"
    inherit_cache = True


@compiles(_ByCodePoint)
def _by_code_point_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_ByCodePoint, "postgresql")
def _by_code_point_postgresql(element, compiler, **kw):
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


def by_code_point(expression) -> ColumnElement[str]:
    """The text compared by code point, as Python compares strings, on either database."""
    return _ByCodePoint(expression)


def register_sqlite_functions(dbapi_connection) -> None:
    """Give a new SQLite connection the function `casefold` calls."""
    dbapi_connection.create_function(
        SQLITE_CASEFOLD, 1, lambda text: None if text is None else text.casefold(),
        deterministic=True)
