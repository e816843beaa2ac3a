"""The report tests use the mentoring fixtures (courses, people, tokens, attempts)."""

from tests.mentoring.conftest import (  # noqa: F401
    launch_of,
    make_activity,
    make_person,
    take,
    token_for,
)
