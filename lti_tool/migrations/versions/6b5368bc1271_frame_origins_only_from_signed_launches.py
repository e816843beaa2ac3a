"""frame origins only from signed launches

The origins in platform.frame_origins came from the Origin header of launch posts, which a
learner replaying their own launch could set to any site. They move to the new table only
when they are on the site (scheme and registrable domain) of one of the platform's
registered URLs, as a hosted Canvas school (school.instructure.com beside the issuer
canvas.instructure.com) is: those sessions keep working in their frame after the upgrade.
Anything else is dropped; a school on its own domain is learnt again, from the signed
return_url, at its next launch.

Revision ID: 6b5368bc1271
Revises: 4154d51df815
Create Date: 2026-12-03 08:03:42.802378

"""
import json
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '6b5368bc1271'
down_revision = '4154d51df815'
branch_labels = None
depends_on = None

#: The rule of lti_tool.lti.registration.site as it stood for this revision (kept here so
#: that the migration does not change when that code does).
MULTI_LABEL_SUFFIXES = frozenset({
    "ac.uk", "co.uk", "org.uk", "gov.uk", "ac.nz", "co.nz", "edu.au", "com.au", "org.au",
    "edu.pl", "com.pl", "org.pl", "net.pl", "gov.pl", "edu.br", "com.br", "ac.jp", "co.jp",
    "edu.cn", "com.cn", "ac.in", "edu.in", "ac.za", "co.za", "edu.mx", "com.mx", "edu.ar",
    "edu.co", "edu.sg", "edu.hk", "edu.tr", "ac.il", "ac.kr", "edu.my", "edu.ph", "ac.th",
    "edu.es", "ac.at", "edu.pe", "edu.ec", "edu.uy", "edu.ng", "ac.ke", "edu.eg", "edu.sa",
})


def _site(url):
    try:
        parts = urlsplit(url or "")
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels) or ":" in host:
        return parts.scheme, f"{host}:{port}"
    keep = 3 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 2
    return parts.scheme, ".".join(labels[-keep:])


def _origin(url):
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def upgrade():
    op.create_table('platform_frame_origin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('first_seen_dt', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_platform_frame_origin_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_frame_origin')),
    sa.UniqueConstraint('platform_id', 'origin', name=op.f('uq_platform_frame_origin_platform_id_origin'))
    )
    with op.batch_alter_table('platform_frame_origin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_frame_origin_platform_id'), ['platform_id'], unique=False)

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, issuer, auth_login_url, auth_token_url, key_set_url, frame_origins "
        "FROM platform")).all()
    kept = []
    for platform_id, *registered, stored in rows:
        if isinstance(stored, str):
            stored = json.loads(stored or "[]")
        sites = {_site(url) for url in registered} - {None}
        own = {_origin(url) for url in registered}
        for origin in dict.fromkeys(stored or []):
            if (isinstance(origin, str) and origin == _origin(origin) and len(origin) <= 255
                    and origin not in own and _site(origin) in sites):
                kept.append({"platform_id": platform_id, "origin": origin})

    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later), never a rebuild of the platform
    # table: with foreign keys on, SQLite's DROP TABLE of the old copy would delete or refuse
    # every row that points at a platform.
    with op.batch_alter_table('platform', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('frame_origins')
    if kept:
        conn.execute(sa.text(
            "INSERT INTO platform_frame_origin (platform_id, origin, first_seen_dt) "
            "VALUES (:platform_id, :origin, CURRENT_TIMESTAMP)"), kept)


def downgrade():
    conn = op.get_bind()
    origins = {}
    for platform_id, origin in conn.execute(sa.text(
            "SELECT platform_id, origin FROM platform_frame_origin ORDER BY id")).all():
        origins.setdefault(platform_id, []).append(origin)
    with op.batch_alter_table('platform', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_origins', sa.JSON(), server_default='[]', nullable=False))
    for platform_id, listed in origins.items():
        value = "CAST(:listed AS JSON)" if conn.dialect.name == "postgresql" else ":listed"
        conn.execute(sa.text(f"UPDATE platform SET frame_origins = {value} WHERE id = :id"),
                     {"listed": json.dumps(listed[:20]), "id": platform_id})

    with op.batch_alter_table('platform_frame_origin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_frame_origin_platform_id'))

    op.drop_table('platform_frame_origin')
