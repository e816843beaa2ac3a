"""Command-line groups: `flask keys ...`, `flask platforms ...`, `flask roster ...`,
`flask questionnaire ...`."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.gradebook.cli import grades_cli
from lti_tool.identity.models import Course, Deployment, Person, Platform
from lti_tool.lti import invitations, keys, roster


def register_cli(app: Flask) -> None:
    """Attach every feature's command group to the app."""
    app.cli.add_command(keys_cli)
    app.cli.add_command(platforms_cli)
    app.cli.add_command(grades_cli)
    app.cli.add_command(roster.roster_cli)
    from lti_tool.dataprotection.cli import data_cli
    from lti_tool.questionnaire.cli import questionnaire_cli

    app.cli.add_command(data_cli)
    from lti_tool.notifications.cli import notifications_cli
    from lti_tool.worker import worker_command

    app.cli.add_command(notifications_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(questionnaire_cli)


@click.group("keys")
def keys_cli() -> None:
    """The tool's signing keys."""


@keys_cli.command("generate")
@click.option("--if-missing", is_flag=True, help="Only when no usable key exists.")
@click.option("--bits", type=int, default=None, help="RSA key size (at least 2048).")
def keys_generate(if_missing: bool, bits: int | None) -> None:
    """Generate a key pair: private key into KEYS_DIR (0600), public key into the JWKS."""
    if if_missing:
        try:
            kid, _ = keys.signing_key()
        except keys.NoSigningKey:
            pass
        else:
            click.echo(f"Key {kid} is in use; nothing generated.")
            return
    if bits is not None and bits < 2048:
        raise click.BadParameter("at least 2048 bits", param_hint="--bits")
    pair = keys.generate_key(bits)
    db.session.commit()
    click.echo(f"Generated key {pair.kid} ({keys.private_key_path(pair.kid)}).")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys and their state (retiring first any whose overlap has ended)."""
    if keys.retire_expired():
        db.session.commit()
    for pair in db.session.scalars(select(keys.KeyPair).order_by(keys.KeyPair.id)):
        present = keys.private_key_path(pair.kid).exists()
        if pair.retired_dt:
            state = f"retired {pair.retired_dt:%Y-%m-%d %H:%M} UTC"
            on_disk = "private key deleted" if not present else "private key still on disk"
        else:
            state = (f"retiring after {pair.retire_after_dt:%Y-%m-%d %H:%M} UTC"
                     if pair.retire_after_dt else "active")
            on_disk = "private key present" if present else "PRIVATE KEY MISSING"
        click.echo(f"{pair.kid}  {state}  created {pair.created_dt:%Y-%m-%d}  {on_disk}")


@keys_cli.command("rotate")
@click.option("--overlap-hours", type=click.IntRange(min=0), default=None,
              help="How long the previous key stays published (default "
                   "KEY_ROTATION_OVERLAP_HOURS, 48).")
def keys_rotate(overlap_hours: int | None) -> None:
    """Publish a new signing key; the previous one stays in the JWKS for the overlap."""
    if overlap_hours is None:
        overlap_hours = current_app.config["KEY_ROTATION_OVERLAP_HOURS"]
    keys.retire_expired()
    pair = keys.rotate(timedelta(hours=overlap_hours))
    db.session.commit()
    click.echo(f"New signing key {pair.kid} published and in use.")
    click.echo(f"Previous keys stay in the JWKS for {overlap_hours} hour(s); afterwards "
               "`flask keys retire-expired` (or the next JWKS request) retires them.")


@keys_cli.command("retire-expired")
def keys_retire_expired() -> None:
    """Retire rotated keys whose overlap has ended (out of the JWKS, private key deleted)."""
    retired = keys.retire_expired()
    db.session.commit()
    if not retired:
        click.echo("No key to retire.")
    for pair in retired:
        click.echo(f"Retired key {pair.kid}.")


@click.group("platforms")
def platforms_cli() -> None:
    """LMS registrations (issuer + client id) and their deployments."""


def _platform(issuer: str, client_id: str) -> Platform:
    platform = db.session.scalar(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    )
    if platform is None:
        raise click.ClickException(f"No platform with issuer {issuer} and client id {client_id}.")
    return platform


@platforms_cli.command("add")
@click.option("--issuer", required=True, help="Platform ID / issuer, e.g. https://moodle.example.edu")
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True, help="Moodle: .../mod/lti/auth.php")
@click.option("--auth-token-url", required=True, help="Moodle: .../mod/lti/token.php")
@click.option("--key-set-url", required=True, help="Moodle: .../mod/lti/certs.php")
@click.option("--audience", default=None, help="Token audience, when not the token URL.")
@click.option("--name", default="", help="A name for people, e.g. 'University Moodle'.")
@click.option("--deployment", "deployments", multiple=True, help="Deployment id (repeatable).")
@click.option("--if-missing", is_flag=True, help="Do nothing when the registration exists.")
def platforms_add(issuer, client_id, auth_login_url, auth_token_url, key_set_url, audience,
                  name, deployments, if_missing) -> None:
    """Register a platform (and its deployments) with the tool."""
    existing = db.session.scalar(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    )
    if existing is not None:
        if if_missing:
            click.echo(f"Platform {issuer} ({client_id}) is registered; unchanged.")
            return
        raise click.ClickException(
            f"Platform {issuer} with client id {client_id} is already registered."
        )
    for url in (auth_login_url, auth_token_url, key_set_url):
        if not url.startswith(("https://", "http://")):
            raise click.BadParameter(f"{url} is not an http(s) URL")
    platform = Platform(
        issuer=issuer, client_id=client_id, name=name, auth_login_url=auth_login_url,
        auth_token_url=auth_token_url, key_set_url=key_set_url, auth_audience=audience,
    )
    platform.deployments = [Deployment(deployment_id=d) for d in dict.fromkeys(deployments)]
    db.session.add(platform)
    db.session.commit()
    click.echo(f"Registered {issuer} ({client_id}) with deployments: "
               f"{', '.join(deployments) or 'none yet'}.")


@platforms_cli.command("add-deployment")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment", required=True)
def platforms_add_deployment(issuer: str, client_id: str, deployment: str) -> None:
    """Allow launches from one more deployment of a registered platform."""
    platform = _platform(issuer, client_id)
    if any(d.deployment_id == deployment for d in platform.deployments):
        click.echo(f"Deployment {deployment} is already allowed.")
        return
    platform.deployments.append(Deployment(deployment_id=deployment))
    db.session.commit()
    click.echo(f"Deployment {deployment} of {issuer} ({client_id}) allowed.")


@platforms_cli.command("invite")
@click.option("--expires-hours", type=click.IntRange(min=1), default=None,
              help="How long the invitation works (default REGISTRATION_INVITE_HOURS, 72).")
@click.option("--note", default="", help="For whom, e.g. 'Faculty of Design Moodle'.")
def platforms_invite(expires_hours: int | None, note: str) -> None:
    """Print a single-use Dynamic Registration URL for an LMS administrator."""
    hours = expires_hours or current_app.config["REGISTRATION_INVITE_HOURS"]
    code, row = invitations.create_invitation(hours, note)
    db.session.commit()
    click.echo(invitations.invitation_url(code))
    click.echo(f"Works once, until {row.expires_dt:%Y-%m-%d %H:%M} UTC. Paste it into the LMS: "
               "Moodle: Manage tools › Tool URL › Add LTI Advantage; Canvas: Developer Keys › "
               "LTI Registration.", err=True)
    if current_app.config["REGISTRATION_MODE"] != "invitation":
        click.echo(f"Note: REGISTRATION_MODE is {current_app.config['REGISTRATION_MODE']!r}, "
                   "so the registration URL does not need the code.", err=True)


@platforms_cli.command("list")
def platforms_list() -> None:
    """List registered platforms."""
    platforms = db.session.scalars(select(Platform).order_by(Platform.id)).all()
    if not platforms:
        click.echo("No platforms registered.")
    for p in platforms:
        deployments = ", ".join(d.deployment_id for d in p.deployments) or "none"
        click.echo(f"{p.issuer}  client id {p.client_id}  deployments: {deployments}")
        click.echo(f"    login {p.auth_login_url}\n    token {p.auth_token_url}\n"
                   f"    keys  {p.key_set_url}")


@platforms_cli.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platforms_remove(issuer: str, client_id: str) -> None:
    """Remove a registration that has no course data yet."""
    platform = _platform(issuer, client_id)
    courses, people = (
        db.session.scalar(select(func.count()).select_from(model).where(
            model.platform_id == platform.id))
        for model in (Course, Person)
    )
    if courses or people:
        raise click.ClickException(
            f"{issuer} ({client_id}) has {courses} course(s) and {people} person(s) with data; "
            "it cannot be removed without erasing them first."
        )
    db.session.delete(platform)
    db.session.commit()
    click.echo(f"Removed {issuer} ({client_id}).")
