"""Platform registrations, the tool's signing key and platforms' key sets, kept in memory.

Every login and launch needs a platform's registration, its deployments and the tool's key
pair. Read from the database (and the key from disk, its public half rebuilt) they cost
several statements and a millisecond or two per request, yet they change rarely: a
registration, `flask keys rotate`, a new deployment or framing origin. So each process
keeps them, and a *generation* token in the shared store says when to drop them: every
commit that writes a Platform, Deployment or KeyPair row puts a new random token there
(and drops this process's copies at once). A launch, which accepts or refuses, compares
the token on every request (one key read), so a change made in any process or by the CLI
counts from the next launch everywhere; a login, which accepts nothing, compares it at
most every LOGIN_CHECK_SECONDS. Bulk UPDATEs outside the ORM do not bump the token: use
the ORM (as the CLI does) or call `changed()`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flask import current_app, has_app_context
from pylti1p3.registration import Registration
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from lti_tool.extensions import db
from lti_tool.identity.models import Deployment, FrameOrigin, Platform
from lti_tool.lti import keys
from lti_tool.lti.models import KeyPair
from lti_tool.lti.storage import shared_store

GENERATION_KEY = "lti-registry-generation"
#: How long the token lives in the store; when it lapses every process reloads once.
GENERATION_TTL = 30 * 24 * 3600
#: A login may use copies this many seconds old (the launch that follows checks again).
LOGIN_CHECK_SECONDS = 2.0
_ABSENT = object()


@dataclass(frozen=True)
class DeploymentRecord:
    """A known deployment: its row id and the platform's deployment id."""

    id: int
    deployment_id: str


@dataclass(frozen=True)
class PlatformRecord:
    """A registered platform as the launch needs it, safe to share between threads."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    frame_origins: tuple[str, ...]
    #: deployment_id → its row id.
    deployments: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Platform) -> PlatformRecord:
        """A copy of a Platform row (with its deployments loaded)."""
        return cls(
            id=row.id, issuer=row.issuer, client_id=row.client_id,
            auth_login_url=row.auth_login_url, auth_token_url=row.auth_token_url,
            key_set_url=row.key_set_url, auth_audience=row.auth_audience,
            frame_origins=tuple(origin.origin for origin in row.frame_origins),
            deployments=MappingProxyType({d.deployment_id: d.id for d in row.deployments}),
        )

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """A known deployment of this platform, or None."""
        row_id = self.deployments.get(deployment_id)
        return None if row_id is None else DeploymentRecord(row_id, deployment_id)


@dataclass(frozen=True)
class SigningKey:
    """The key pair that signs the tool's messages."""

    kid: str
    private_pem: str
    public_pem: str


class _Copies:
    """One process's copies, valid for one generation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation: Any = _ABSENT
        self.checked_at = float("-inf")
        self.clear()

    def clear(self) -> None:
        self.platforms: dict[tuple[str, str | None], PlatformRecord] = {}
        self.registrations: dict[int, Registration] = {}
        self.signing: SigningKey | None = None
        #: key set URL → (key set, monotonic time it lapses).
        self.key_sets: dict[str, tuple[dict, float]] = {}


def _copies() -> _Copies:
    copies = current_app.extensions.get("lti_registry")
    if copies is None:
        copies = current_app.extensions.setdefault("lti_registry", _Copies())
    return copies


def _current(max_age: float) -> _Copies:
    """This process's copies, dropped first when the generation changed."""
    copies = _copies()
    now = time.monotonic()
    if now - copies.checked_at >= max_age:
        generation = shared_store().get(GENERATION_KEY)
        with copies.lock:
            if generation != copies.generation:
                copies.clear()
                copies.generation = generation
            copies.checked_at = now
    return copies


def changed() -> None:
    """Registrations or keys changed: every process drops its copies (this one at once)."""
    shared_store().set(GENERATION_KEY, secrets.token_hex(8), GENERATION_TTL)
    copies = _copies()
    with copies.lock:
        copies.clear()
        copies.checked_at = float("-inf")


def platform(issuer: str, client_id: str | None, *, for_launch: bool) -> PlatformRecord | None:
    """The registration for an issuer and client id; without a client id, the only one.

    `for_launch`: checked against the generation now (a login may use older copies)."""
    copies = _current(0 if for_launch else LOGIN_CHECK_SECONDS)
    key = (issuer, client_id)
    record = copies.platforms.get(key)
    if record is not None:
        return record
    query = (select(Platform).where(Platform.issuer == issuer)
             .options(selectinload(Platform.deployments),
                      selectinload(Platform.frame_origins)))
    if client_id:
        row = db.session.scalar(query.where(Platform.client_id == client_id))
    else:
        rows = db.session.scalars(query.limit(2)).all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        return None  # not kept: a registration made a moment later counts at once
    record = PlatformRecord.of(row)
    with copies.lock:
        copies.platforms[key] = record
    return record


def signing_key() -> SigningKey:
    """The tool's current signing key, its private half read from disk once."""
    copies = _current(LOGIN_CHECK_SECONDS)
    if copies.signing is None:
        kid, private_pem = keys.signing_key()
        pair = db.session.scalar(select(KeyPair).where(KeyPair.kid == kid))
        signing = SigningKey(kid, private_pem, keys.public_pem(pair))
        with copies.lock:
            copies.signing = signing
    return copies.signing


def registration(record: PlatformRecord | Platform) -> Registration:
    """A pylti1p3 Registration carrying the platform's URLs and the tool's signing key."""
    copies = _current(LOGIN_CHECK_SECONDS)
    if isinstance(record, PlatformRecord) and record.id in copies.registrations:
        return copies.registrations[record.id]
    key = signing_key()
    built = (
        Registration()
        .set_issuer(record.issuer)
        .set_client_id(record.client_id)
        .set_auth_login_url(record.auth_login_url)
        .set_auth_token_url(record.auth_token_url)
        .set_key_set_url(record.key_set_url)
        .set_tool_private_key(key.private_pem)
        .set_tool_public_key(key.public_pem)
    )
    if record.auth_audience:
        built.set_auth_audience(record.auth_audience)
    if isinstance(record, PlatformRecord):  # a row may hold uncommitted changes: not kept
        with copies.lock:
            copies.registrations[record.id] = built
    return built


def key_set(url: str) -> dict | None:
    """A platform's key set fetched earlier by this process and not yet lapsed."""
    kept = _current(LOGIN_CHECK_SECONDS).key_sets.get(url)
    if kept is None or kept[1] <= time.monotonic():
        return None
    return kept[0]


def keep_key_set(url: str, keys: dict, ttl: int) -> None:
    """Remember a platform's key set for `ttl` seconds."""
    copies = _current(LOGIN_CHECK_SECONDS)
    with copies.lock:
        copies.key_sets[url] = (keys, time.monotonic() + ttl)


_WATCHED = (Platform, Deployment, KeyPair, FrameOrigin)


def _note_writes(session: Session, flush_context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info["lti_registry_changed"] = True
            return


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the writes are not committed yet
    if session.info.pop("lti_registry_changed", False) and has_app_context():
        changed()


def _after_rollback(session: Session) -> None:
    session.info.pop("lti_registry_changed", None)


def watch_writes() -> None:
    """Bump the generation after every commit that wrote a registration or key row."""
    if not event.contains(Session, "after_flush", _note_writes):
        event.listen(Session, "after_flush", _note_writes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
