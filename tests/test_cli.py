"""The operator's commands: keys and platforms."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Platform
from lti_tool.lti.models import KeyPair

PLATFORM = ["--issuer", "https://moodle.example.edu", "--client-id", "abc123",
            "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
            "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
            "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php"]


def test_keys_generate_writes_a_private_key_readable_only_by_its_owner(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "generate"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        pair = db.session.scalars(select(KeyPair).order_by(KeyPair.id.desc())).first()
    path = Path(app.config["KEYS_DIR"]) / f"{pair.kid}.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "BEGIN PRIVATE KEY" in path.read_text()
    assert pair.public_jwk["n"] and "d" not in pair.public_jwk


def test_keys_generate_if_missing_keeps_the_key(app):
    result = app.test_cli_runner().invoke(args=["keys", "generate", "--if-missing"])
    assert "nothing generated" in result.output


def test_keys_are_never_committed():
    root = Path(__file__).resolve().parents[1]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "keys/some-kid.pem"], cwd=root, check=False
    )
    assert ignored.returncode == 0
    tracked = subprocess.run(["git", "ls-files", "keys"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.split()
    assert set(tracked) <= {"keys/README.md", "keys/.gitkeep"}


def test_platforms_add_list_remove(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["platforms", "add", *PLATFORM, "--deployment", "1",
                                 "--deployment", "2"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["platforms", "list"]).output
    assert "https://moodle.example.edu" in listing and "deployments: 1, 2" in listing
    again = runner.invoke(args=["platforms", "add", *PLATFORM])
    assert again.exit_code != 0 and "already registered" in again.output
    result = runner.invoke(args=["platforms", "add-deployment", "--issuer",
                                 "https://moodle.example.edu", "--client-id", "abc123",
                                 "--deployment", "7"])
    assert "allowed" in result.output
    result = runner.invoke(args=["platforms", "remove", "--issuer", "https://moodle.example.edu",
                                 "--client-id", "abc123"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Platform)) is None


def test_platform_with_data_is_not_removed(app, driver, platform):
    driver.launch(driver.user("Learner")["id"])
    result = app.test_cli_runner().invoke(
        args=["platforms", "remove", "--issuer", platform.issuer, "--client-id",
              platform.client_id]
    )
    assert result.exit_code != 0 and "cannot be removed" in result.output


def test_migrations_match_the_models(app):
    """`flask db check`: the models and the migrations describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_platforms_invite_prints_a_single_use_registration_url(app):
    from lti_tool.lti.invitations import RegistrationInvitation

    result = app.test_cli_runner().invoke(args=["platforms", "invite", "--expires-hours", "2",
                                                "--note", "Faculty Moodle"])
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    assert url.startswith(app.config["TOOL_URL"] + "/lti/register?invite=")
    assert "Works once" in result.output
    with app.app_context():
        row = db.session.scalar(select(RegistrationInvitation))
        assert row.note == "Faculty Moodle" and row.used_dt is None
        assert url.split("invite=")[1] not in row.code_hash


def test_keys_rotate_refuses_a_negative_overlap(app):
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--overlap-hours", "-1"])
    assert result.exit_code != 0 and "overlap-hours" in result.output
