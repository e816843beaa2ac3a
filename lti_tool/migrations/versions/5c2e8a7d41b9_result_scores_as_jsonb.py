"""result scores as jsonb on PostgreSQL

The cohort page filters and sorts learners by a dimension's score in SQL. PostgreSQL parses a
`json` value again every time a path is read from it, for every learner; `jsonb` is stored
parsed. SQLite keeps its JSON text: nothing changes there.

Revision ID: 5c2e8a7d41b9
Revises: 44fc9bf24db1
Create Date: 2026-12-04 14:35:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '5c2e8a7d41b9'
down_revision = '44fc9bf24db1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("result", "dimension_scores", existing_type=sa.JSON(),
                    type_=postgresql.JSONB(), postgresql_using="dimension_scores::jsonb",
                    existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("result", "dimension_scores", existing_type=postgresql.JSONB(),
                    type_=sa.JSON(), postgresql_using="dimension_scores::json",
                    existing_nullable=False)
