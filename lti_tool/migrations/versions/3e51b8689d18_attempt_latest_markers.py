"""attempt latest markers

Each attempt says whether it is its person's latest in its activity, and whether it is their
latest submitted one (Attempt.latest, Attempt.latest_submitted), so a cohort joins every
learner's attempt in one step. Existing attempts are marked from their numbers.

Revision ID: 3e51b8689d18
Revises: 863dfb7a7ad7
Create Date: 2026-12-04 04:40:33.232865

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e51b8689d18'
down_revision = '863dfb7a7ad7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('latest_submitted', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    attempt = sa.table("attempt", sa.column("person_id", sa.Integer),
                       sa.column("resource_link_id", sa.Integer),
                       sa.column("number", sa.Integer), sa.column("submitted_dt", sa.DateTime),
                       sa.column("latest", sa.Boolean), sa.column("latest_submitted", sa.Boolean))
    newer = attempt.alias("newer")
    same = sa.and_(newer.c.person_id == attempt.c.person_id,
                   newer.c.resource_link_id == attempt.c.resource_link_id)
    top = sa.select(sa.func.max(newer.c.number)).where(same).scalar_subquery()
    top_submitted = (sa.select(sa.func.max(newer.c.number))
                     .where(same, newer.c.submitted_dt.is_not(None)).scalar_subquery())
    op.execute(attempt.update().values(
        latest=sa.func.coalesce(attempt.c.number == top, sa.false()),
        latest_submitted=sa.func.coalesce(
            attempt.c.submitted_dt.is_not(None) & (attempt.c.number == top_submitted),
            sa.false()),
    ))
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_latest', ['resource_link_id', 'person_id'],
                              unique=False, sqlite_where=sa.text('latest = 1'),
                              postgresql_where=sa.text('latest'))
        batch_op.create_index('ix_attempt_latest_submitted', ['resource_link_id', 'person_id'],
                              unique=False, sqlite_where=sa.text('latest_submitted = 1'),
                              postgresql_where=sa.text('latest_submitted'))


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_latest_submitted')
        batch_op.drop_index('ix_attempt_latest')
        batch_op.drop_column('latest_submitted')
        batch_op.drop_column('latest')
