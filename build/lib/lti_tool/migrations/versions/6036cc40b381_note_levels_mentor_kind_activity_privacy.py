"""note levels, mentor kind, activity privacy

Notes get three levels. What was "private" meant "for the course's mentors" and becomes
"mentors"; what was "shared" (with the learner) becomes "learner"; the new "author" level
(for the note's author alone) starts empty. Launch sessions learn what kind of mentor their
launch made someone; sessions open during the upgrade become "assistant", the narrowest kind
that still mentors, until their next launch.

Revision ID: 6036cc40b381
Revises: 8c2dc2078ee9
Create Date: 2026-12-03 04:55:52.437975

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6036cc40b381'
down_revision = '8c2dc2078ee9'
branch_labels = None
depends_on = None

#: Old level → new level, and back.
NOTE_LEVELS = {"private": "mentors", "shared": "learner"}


def upgrade():
    op.create_table('activity_privacy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.Integer(), nullable=False),
    sa.Column('answers_to_mentors', sa.Boolean(), nullable=False),
    sa.Column('updated_dt', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_link_id'], ['resource_link.id'], name=op.f('fk_activity_privacy_resource_link_id_resource_link')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_privacy')),
    sa.UniqueConstraint('resource_link_id', name=op.f('uq_activity_privacy_resource_link_id'))
    )
    with op.batch_alter_table('launch_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentor_kind', sa.Enum('lead', 'assistant', 'site_admin', name='mentorkind', native_enum=False, length=16), nullable=True))
    op.execute("UPDATE launch_session SET mentor_kind = 'assistant' WHERE role = 'mentor'")

    note = sa.table("mentoring_note", sa.column("visibility", sa.String(16)))
    for old, new in NOTE_LEVELS.items():
        op.execute(note.update().where(note.c.visibility == old).values(visibility=new))


def downgrade():
    note = sa.table("mentoring_note", sa.column("visibility", sa.String(16)))
    bind = op.get_bind()
    kept_by_authors = bind.execute(
        sa.select(sa.func.count()).select_from(note).where(note.c.visibility == "author")
    ).scalar()
    if kept_by_authors:
        # The old schema has no level for "the author alone": any old level would show these
        # notes to other mentors or to the learner. Refuse rather than widen who reads them.
        raise RuntimeError(
            f"{kept_by_authors} note(s) are for their author alone, which the previous version "
            "cannot keep private; delete them (or let their authors change them) first"
        )
    for old, new in NOTE_LEVELS.items():
        op.execute(note.update().where(note.c.visibility == new).values(visibility=old))

    with op.batch_alter_table('launch_session', schema=None) as batch_op:
        batch_op.drop_column('mentor_kind')

    op.drop_table('activity_privacy')
