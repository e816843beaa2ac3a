"""What a launch costs the database: statements for login + launch + landing page.

Counted with a SQLAlchemy event listener on the tool's engine, so every statement counts:
the request's ORM queries and the shared store's own (state, platform keys, ...).
Not a timing test: the count is the same on a slow machine and a fast one.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from lti_tool.extensions import db

#: The issue's budget for a returning learner's login + launch + landing page together is
#: 8; the tool needs 7 (the state written and taken, the registry's generation, the known
#: rows, the session written, the latest attempt, the activity's privacy setting).
RETURNING_LEARNER_STATEMENTS = 7


@contextmanager
def counted_statements(app):
    """Collect every SQL statement the tool's engine runs inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def full_launch(driver, user_id: str):
    """Login, launch and the landing page, as a browser makes them."""
    attempt = driver.authorize(driver.login(user_id))
    driver.post_launch(attempt)
    page = attempt.landing_response(driver)
    assert page.status_code == 200, page.text[:1000]
    return page


def test_returning_learner_costs_at_most_seven_statements(app, driver):
    learner = driver.user("Learner")["id"]
    full_launch(driver, learner)  # the first launch creates the person, course and link
    with counted_statements(app) as statements:
        page = full_launch(driver, learner)
    assert "questionnaire" in page.text.lower()
    assert len(statements) <= RETURNING_LEARNER_STATEMENTS, "\n".join(statements)


def test_returning_learner_with_unchanged_claims_writes_nothing_but_the_session(app, driver):
    learner = driver.user("Learner")["id"]
    full_launch(driver, learner)
    with counted_statements(app) as statements:
        full_launch(driver, learner)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
              and "cache_entry" not in s]
    assert len(writes) == 1 and "launch_session" in writes[0], "\n".join(writes)


def test_the_landing_page_is_read_before_the_session_is_written_in_one_transaction(app, driver):
    """The launch answers with the learner's landing page: its reads come before the new
    session is written, in the launch's one transaction, so the page costs no second
    connection (on PostgreSQL a ping, a BEGIN and a ROLLBACK more) and SQLite's write
    lock is not held while it renders."""
    learner = driver.user("Learner")["id"]
    full_launch(driver, learner)
    attempt = driver.authorize(driver.login(learner))
    transactions: list[object] = []

    def begun(session, transaction, connection):
        transactions.append(connection)

    event.listen(Session, "after_begin", begun)
    try:
        with counted_statements(app) as statements:
            driver.post_launch(attempt)
            page = attempt.landing_response(driver)
    finally:
        event.remove(Session, "after_begin", begun)
    assert page.status_code == 200 and "questionnaire" in page.text.lower()
    tables = [_table(s) for s in statements if _table(s) != "cache_entry"]
    assert tables.index("launch_session") > tables.index("attempt"), tables
    assert tables.index("launch_session") > tables.index("activity_privacy"), tables
    assert len(transactions) == 1, transactions


def _table(statement: str) -> str:
    """The first table a statement names after FROM, INTO or UPDATE."""
    words = statement.replace("\n", " ").split()
    for before, word in zip(words, words[1:], strict=False):
        if before.upper() in ("FROM", "INTO", "UPDATE"):
            return word.strip('"')
    return ""
