"""person name key

Each person keeps their display name casefolded (Person.name_key), so lists sort and
search by name without working the name out for every person of the course in SQL.
Existing people get theirs from their names, a batch at a time.

Revision ID: 44fc9bf24db1
Revises: 3e51b8689d18
Create Date: 2026-12-04 14:10:00.000000

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '44fc9bf24db1'
down_revision = '3e51b8689d18'
branch_labels = None
depends_on = None

BATCH = 1000


def name_key_of(platform_id, sub, name, given_name, family_name):
    """identity/names.py's rule as it stood for this revision."""
    full = " ".join(part for part in (given_name, family_name) if part)
    tag = hashlib.sha256(f"{platform_id}:{sub}".encode()).hexdigest()[:4].upper()
    return (name or full or f"Learner {tag}").casefold()


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.Text(), nullable=True))
    person = sa.table("person", sa.column("id", sa.Integer),
                      sa.column("platform_id", sa.Integer), sa.column("sub", sa.String),
                      sa.column("name", sa.String), sa.column("given_name", sa.String),
                      sa.column("family_name", sa.String), sa.column("name_key", sa.Text))
    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(person.c.id, person.c.platform_id, person.c.sub, person.c.name,
                      person.c.given_name, person.c.family_name)
            .where(person.c.id > after).order_by(person.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            person.update().where(person.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": name_key_of(row.platform_id, row.sub, row.name,
                                                   row.given_name, row.family_name)}
             for row in rows],
        )
        after = rows[-1].id
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('name_key')
