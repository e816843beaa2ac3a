"""A column compared with a list of ids bound as a parameter, the same statement for any
number of ids.

SQLite gets an expanding IN (one placeholder per id, filled in when the statement runs).
PostgreSQL gets `= ANY(%(ids)s::INTEGER[])`, the whole list as one array parameter: psycopg
keeps the conversion of a statement's text only for statements with at most 50 parameters
(a cohort page asks about 50 learners, plus the course), and prepares one statement however
many ids a page has.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def in_bound_ids(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ids bound as `name` (a list of ints when the statement runs),
    written for `dialect` ("postgresql", "sqlite")."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))
