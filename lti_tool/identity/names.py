"""Person's display-name rules as SQL, so that lists can be searched and sorted by name in the
database (a page of 50 out of thousands) and agree with `Person.display_name`.

The name is `name`, else given and family name joined by a space, else the pseudonym
("Learner 7F3A": the first four hex digits of SHA-256 of "platform_id:sub", upper case).
PostgreSQL computes SHA-256 itself; SQLite has no hash function, so the connection gets two
small Python functions (registered in create_app): the pseudonym tag and `str.casefold`.
On SQLite names are therefore compared exactly as Python compares them. On PostgreSQL
`lower()` stands in for `casefold()`; they differ only for a few letters (ß → "ss" in
Python, unchanged in PostgreSQL), and order is by code point (COLLATE "C") as in Python.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, String, and_, case, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_TAG = "dmd_pseudonym_tag"
SQLITE_CASEFOLD = "dmd_casefold"


def pseudonym_tag(platform_id: int, sub: str) -> str:
    """The four hex digits of a pseudonym ("7F3A" of "Learner 7F3A")."""
    return hashlib.sha256(f"{platform_id}:{sub}".encode()).hexdigest()[:4].upper()


class _PseudonymTag(FunctionElement):
    """SQL for pseudonym_tag(platform_id, sub)."""

    type = String()
    name = "pseudonym_tag"
    inherit_cache = True


@compiles(_PseudonymTag)
def _tag_sqlite(element, compiler, **kw):
    return f"{SQLITE_TAG}({compiler.process(element.clauses, **kw)})"


@compiles(_PseudonymTag, "postgresql")
def _tag_postgresql(element, compiler, **kw):
    platform_id, sub = list(element.clauses)
    text = (f"CAST({compiler.process(platform_id, **kw)} AS TEXT) || ':' || "
            f"{compiler.process(sub, **kw)}")
    return f"upper(substr(encode(sha256(convert_to({text}, 'UTF8')), 'hex'), 1, 4))"


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
    """An SQL expression: the text casefolded, as Python's str.casefold() (see the module)."""
    return _Casefold(expression)


def display_name(person) -> ColumnElement[str]:
    """Person.display_name as an SQL expression over `person` (the model or an alias)."""
    given, family = person.given_name, person.family_name

    def present(column) -> ColumnElement[bool]:
        return func.coalesce(column, "") != ""

    full = case(
        (and_(present(given), present(family)), given + " " + family),
        (present(given), given),
        (present(family), family),
        else_=None,
    )
    pseudonym = "Learner " + cast(_PseudonymTag(person.platform_id, person.sub), String)
    return func.coalesce(func.nullif(person.name, ""), full, pseudonym)


def name_order(person) -> ColumnElement[str]:
    """The display name as lists sort and search it: casefolded, compared by code point."""
    return casefold(display_name(person))


def register_sqlite_functions(dbapi_connection) -> None:
    """Give a new SQLite connection the functions the expressions above call."""
    dbapi_connection.create_function(SQLITE_TAG, 2, pseudonym_tag, deterministic=True)
    dbapi_connection.create_function(
        SQLITE_CASEFOLD, 1, lambda text: None if text is None else text.casefold(),
        deterministic=True)
