"""scores held for review

A score from a response flagged for its quality is held for a mentor's review in score mode
(ScoreStatus "held", "withheld": the status column is a plain string, so they need no schema
change). Each record remembers whether its response was flagged, so a later change of grade
mode holds it too; records made before this revision are marked from their result.

Revision ID: 863dfb7a7ad7
Revises: db59f07209a1
Create Date: 2026-12-03 08:33:40.104517

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '863dfb7a7ad7'
down_revision = 'db59f07209a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('score_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality_flagged', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    score_record = sa.table("score_record", sa.column("result_id", sa.Integer),
                            sa.column("quality_flagged", sa.Boolean))
    result = sa.table("result", sa.column("id", sa.Integer), sa.column("flagged", sa.Boolean))
    flagged = sa.select(result.c.id).where(result.c.flagged.is_(sa.true()))
    op.execute(score_record.update().where(score_record.c.result_id.in_(flagged))
               .values(quality_flagged=True))
    with op.batch_alter_table('score_record', schema=None) as batch_op:
        batch_op.alter_column('quality_flagged', server_default=None)


def downgrade():
    # The older code knows no held scores; "failed" keeps them from being sent until a mentor
    # presses "Try again", with the reason to read.
    op.execute("UPDATE score_record SET status = 'failed', last_error = 'Held for review: "
               "the response quality was flagged.' WHERE status IN ('held', 'withheld')")
    with op.batch_alter_table('score_record', schema=None) as batch_op:
        batch_op.drop_column('quality_flagged')
