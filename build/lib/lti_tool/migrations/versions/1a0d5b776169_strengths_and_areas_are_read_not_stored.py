"""strengths and areas are read, not stored

The stored top-3 / bottom-3 lists ranked dimensions, ties broken by file order. Strengths and
areas for development are now read from the scores with measurement error at display time
(questionnaire/interpretation.py), so the lists go; the scores they came from stay.

Revision ID: 1a0d5b776169
Revises: 6036cc40b381
Create Date: 2026-12-03 04:55:12.243940

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '1a0d5b776169'
down_revision = '6036cc40b381'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_column('strengths')
        batch_op.drop_column('improvements')


def downgrade():
    # The old lists cannot be told from the scores' reading: they come back empty.
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('improvements', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('strengths', sa.JSON(), nullable=False,
                                      server_default='[]'))
