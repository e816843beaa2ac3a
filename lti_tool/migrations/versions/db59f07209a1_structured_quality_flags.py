"""structured quality flags

Quality flags were stored as lists of ids and page indexes plus English sentences, which the
pages read back with regular expressions to say them in another language. They become a list
of data, one dict per finding (kind, page, seconds, value, ...; scoring.QualityFlag), and a
`flagged` column that lets figures about groups leave flagged responses out in SQL. The old
sentences are read one last time here; what they do not say (an older wording) is kept from
the lists, without the details.

Revision ID: db59f07209a1
Revises: bae3e484345c
Create Date: 2026-12-03 07:55:24.593450

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'db59f07209a1'
down_revision = 'bae3e484345c'
branch_labels = None
depends_on = None

# The three sentences scoring.assess_quality wrote before this revision (a snapshot: the
# application's code may change, this migration must not).
ATTENTION = re.compile(
    r"Attention check (?P<check>\S+) asked for (?P<expected>-?\d+) \(.*?\) and got "
    r"(?:no answer|(?P<given>-?\d+) \(.*\))\."
)
SAME_ANSWER = re.compile(
    r"Page (?P<page>\d+) \((?P<title>.*)\): (?P<same>\d+) of (?P<count>\d+) statements got the "
    r"same answer, (?P<value>-?\d+) \(.*\)\."
)
TOO_FAST = re.compile(
    r"Page (?P<page>\d+) \((?P<title>.*)\) took (?P<seconds>[\d.]+) s for (?P<count>\d+) "
    r"statements, under (?P<minimum>[\d.]+) s each\."
)
# For the way back: the words of the 7-point scale and of the four pages, in English.
LABELS = ("Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
          "Somewhat agree", "Agree", "Strongly agree")
TITLES = ("People", "Problem", "Action", "Self")

result = sa.table(
    "result",
    sa.column("id", sa.Integer),
    sa.column("quality_flags", sa.JSON),
    sa.column("flagged", sa.Boolean),
)


def structured(old):
    """The list of flag dicts for one result's old dict of lists and sentences."""
    if isinstance(old, list):
        return old  # already converted
    old = old or {}
    attention, same, fast = {}, {}, {}
    for reason in old.get("reasons") or ():
        if found := ATTENTION.fullmatch(reason):
            attention[found["check"]] = found
        elif found := SAME_ANSWER.fullmatch(reason):
            same[int(found["page"]) - 1] = found
        elif found := TOO_FAST.fullmatch(reason):
            fast[int(found["page"]) - 1] = found
    flags = []
    for check in old.get("failed_attention_checks") or ():
        flag = {"kind": "attention_check", "item": check}
        if (found := attention.get(check)) is not None:
            flag["expected"] = int(found["expected"])
            if found["given"] is not None:
                flag["value"] = int(found["given"])
        flags.append(flag)
    for page in old.get("straight_lined_pages") or ():
        flag = {"kind": "straight_lining", "page": page}
        if (found := same.get(page)) is not None:
            flag.update(value=int(found["value"]), count=int(found["same"]),
                        of=int(found["count"]))
        flags.append(flag)
    for page in old.get("too_fast_pages") or ():
        flag = {"kind": "too_fast", "page": page}
        if (found := fast.get(page)) is not None:
            flag.update(seconds=float(found["seconds"]), count=int(found["count"]),
                        minimum=float(found["minimum"]))
        flags.append(flag)
    return flags


def _label(value):
    return LABELS[value - 1] if isinstance(value, int) and 1 <= value <= len(LABELS) else "?"


def _title(page):
    return TITLES[page] if isinstance(page, int) and 0 <= page < len(TITLES) else "?"


def as_before(flags):
    """The old dict of lists and English sentences for a list of flag dicts (downgrade)."""
    old = {"failed_attention_checks": [], "straight_lined_pages": [], "too_fast_pages": [],
           "reasons": []}
    for flag in flags or ():
        kind, page = flag.get("kind"), flag.get("page")
        if kind == "attention_check":
            old["failed_attention_checks"].append(flag.get("item"))
            expected, given = flag.get("expected"), flag.get("value")
            got = "no answer" if given is None else f"{given} ({_label(given)})"
            old["reasons"].append(f"Attention check {flag.get('item')} asked for {expected} "
                                  f"({_label(expected)}) and got {got}.")
        elif kind == "straight_lining":
            old["straight_lined_pages"].append(page)
            old["reasons"].append(
                f"Page {page + 1} ({_title(page)}): {flag.get('count')} of {flag.get('of')} "
                f"statements got the same answer, {flag.get('value')} "
                f"({_label(flag.get('value'))}).")
        elif kind == "too_fast":
            old["too_fast_pages"].append(page)
            old["reasons"].append(
                f"Page {page + 1} ({_title(page)}) took {flag.get('seconds', 0):.1f} s for "
                f"{flag.get('count')} statements, under {flag.get('minimum')} s each.")
        # Contradictory pairs did not exist before this revision: nothing to say in the old form.
    return old


def upgrade():
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_result_flagged'), ['flagged'], unique=False)
    connection = op.get_bind()
    for row in connection.execute(sa.select(result.c.id, result.c.quality_flags)).all():
        flags = structured(row.quality_flags)
        connection.execute(
            result.update().where(result.c.id == row.id)
            .values(quality_flags=flags, flagged=bool(flags))
        )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.alter_column('flagged', server_default=None)


def downgrade():
    connection = op.get_bind()
    for row in connection.execute(sa.select(result.c.id, result.c.quality_flags)).all():
        if isinstance(row.quality_flags, list):
            connection.execute(result.update().where(result.c.id == row.id)
                               .values(quality_flags=as_before(row.quality_flags)))
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_flagged'))
        batch_op.drop_column('flagged')
