"""The tool's signing keys: generated into KEYS_DIR, published as a JWKS with a kid."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from pylti1p3.registration import Registration
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.lti.models import KeyPair


class NoSigningKey(RuntimeError):
    """The tool has no usable signing key (generate one with `flask keys generate`)."""


def _keys_dir() -> Path:
    path = Path(current_app.config["KEYS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def private_key_path(kid: str) -> Path:
    """Where the private half of a key lives."""
    return _keys_dir() / f"{kid}.pem"


def generate_key(bits: int | None = None) -> KeyPair:
    """Make a new RSA key pair: private PEM to KEYS_DIR (0600), public JWK to the database."""
    bits = bits or current_app.config["KEY_BITS"]
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = dict(Registration.get_jwk(public_pem.decode()))
    path = private_key_path(jwk["kid"])
    # Create with 0600 from the start, so the key is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    pair = KeyPair(kid=jwk["kid"], public_jwk=jwk)
    db.session.add(pair)
    db.session.flush()
    return pair


def published_keys() -> list[KeyPair]:
    """Every key that platforms may still meet: all not yet retired, newest first."""
    now = utcnow()
    rows = db.session.scalars(
        select(KeyPair).where(KeyPair.retired_dt.is_(None)).order_by(KeyPair.id.desc())
    ).all()
    return [k for k in rows if k.retire_after_dt is None or k.retire_after_dt > now]


def jwks() -> dict:
    """The tool's public JSON Web Key Set."""
    return {"keys": [k.public_jwk for k in published_keys()]}


def signing_key() -> tuple[str, str]:
    """(kid, private PEM) of the key that signs new messages: the newest unrotated one."""
    for pair in published_keys():
        if pair.retire_after_dt is not None:
            continue
        path = private_key_path(pair.kid)
        if path.exists():
            return pair.kid, path.read_text()
    raise NoSigningKey(
        "The tool has no signing key. Run `flask keys generate` "
        f"(keys are kept in {current_app.config['KEYS_DIR']})."
    )


def public_pem(pair: KeyPair) -> str:
    """The PEM of a key's public half (pylti1p3 wants PEM)."""
    from jwcrypto.jwk import JWK

    return JWK(**pair.public_jwk).export_to_pem().decode()


def rotate(overlap: timedelta) -> KeyPair:
    """Publish a new key; earlier keys stay in the JWKS for `overlap`, then retire."""
    retire_at: datetime = utcnow() + overlap
    for pair in published_keys():
        if pair.retire_after_dt is None:
            pair.retire_after_dt = retire_at
    return generate_key()


def retire_expired() -> list[KeyPair]:
    """Retire the rotated keys whose overlap has ended: out of the JWKS, private half deleted.

    Cheap when there is nothing to do (one query), so the JWKS view and `flask keys list`
    run it as they go; `flask keys retire-expired` runs it on demand.
    """
    now = utcnow()
    expired = db.session.scalars(
        select(KeyPair).where(
            KeyPair.retired_dt.is_(None),
            KeyPair.retire_after_dt.is_not(None),
            KeyPair.retire_after_dt <= now,
        )
    ).all()
    for pair in expired:
        pair.retired_dt = now
        # A retired key never signs again; its private half is only a liability now.
        private_key_path(pair.kid).unlink(missing_ok=True)
    if expired:
        db.session.flush()
    return list(expired)
