"""Short-lived protocol data in storage that every worker and server shares.

OIDC state, nonces, service tokens and platform key sets must survive a login handled by
one worker and a launch handled by another, so nothing here lives in process memory.
The database is the default; Redis is used when REDIS_URL is set.

Database operations run on their own connection and commit at once: a consumed nonce
must stay consumed even when the request that consumed it fails later. On SQLite that
connection must not be used while the request's session holds an uncommitted write, so
callers touch the store before they write identity rows (the launch does).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.session import SessionService
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.lti.models import CacheEntry


class SharedStore(Protocol):
    """Key/value storage with expiry and an atomic take, shared by every worker."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: int) -> None: ...

    def add(self, key: str, value: Any, ttl: int) -> bool: ...

    def take(self, key: str) -> Any | None: ...

    def delete(self, key: str) -> None: ...


_TABLE = CacheEntry.__table__
_KEY, _NOW = bindparam("key"), bindparam("now")
# Built once: every login and launch runs these, and building a statement costs more than
# SQLite takes to run it. Values come as bound parameters at execution.
_GET = select(_TABLE.c.value).where(_TABLE.c.key == _KEY, _TABLE.c.expires_dt > _NOW)
_TAKE = (delete(_TABLE).where(_TABLE.c.key == _KEY)
         .returning(_TABLE.c.value, _TABLE.c.expires_dt))
_DELETE = delete(_TABLE).where(_TABLE.c.key == _KEY)
_DELETE_EXPIRED_KEY = delete(_TABLE).where(_TABLE.c.key == _KEY, _TABLE.c.expires_dt <= _NOW)


def _upserts(dialect: str) -> tuple[Any, Any]:
    """(insert unless present, insert or replace) for a dialect, with bound values."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(_TABLE).values(key=_KEY, value=bindparam("value"),
                                 expires_dt=bindparam("expires_dt"))
    # RETURNING, not rowcount: drivers report -1 for an upsert's rowcount.
    add = stmt.on_conflict_do_nothing(index_elements=["key"]).returning(_TABLE.c.key)
    replace = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": stmt.excluded.value, "expires_dt": stmt.excluded.expires_dt})
    return add, replace


_UPSERTS = {name: _upserts(name) for name in ("postgresql", "sqlite")}


class DatabaseStore:
    """The shared store in the application's database (table cache_entry)."""

    table = _TABLE

    def _upsert(self, key: str, value: Any, ttl: int, *, only_if_absent: bool) -> bool:
        row = {"key": key, "value": json.dumps(value),
               "expires_dt": utcnow() + timedelta(seconds=ttl)}
        add, replace = _UPSERTS["postgresql" if db.engine.dialect.name == "postgresql"
                                else "sqlite"]
        with db.engine.begin() as conn:
            if only_if_absent:
                # An expired entry counts as absent: remove it first in the same transaction.
                conn.execute(_DELETE_EXPIRED_KEY, {"key": key, "now": utcnow()})
                return conn.execute(add, row).first() is not None
            conn.execute(replace, row)
            return True

    def purge_expired(self) -> int:
        """Remove expired entries (the worker's housekeeping); how many went.

        Never on a request's path: a launch costs the same from one launch to the next.
        """
        with db.engine.begin() as conn:
            return conn.execute(
                delete(self.table).where(self.table.c.expires_dt <= utcnow())
            ).rowcount

    def get(self, key: str) -> Any | None:
        """The value, or None when absent or expired."""
        with db.engine.connect() as conn:
            value = conn.execute(_GET, {"key": key, "now": utcnow()}).scalar()
        return None if value is None else json.loads(value)

    def set(self, key: str, value: Any, ttl: int) -> None:
        """Store a value for ttl seconds."""
        self._upsert(key, value, ttl, only_if_absent=False)

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Store only when the key is absent; True when this call stored it."""
        return self._upsert(key, value, ttl, only_if_absent=True)

    def take(self, key: str) -> Any | None:
        """Remove and return the value atomically: of two workers, one gets it."""
        with db.engine.begin() as conn:
            value = conn.execute(_TAKE, {"key": key}).first()
        if value is None or value.expires_dt <= utcnow():
            return None
        return json.loads(value.value)

    def delete(self, key: str) -> None:
        """Forget a key."""
        with db.engine.begin() as conn:
            conn.execute(_DELETE, {"key": key})


class RedisStore:
    """The shared store in Redis, for several app servers."""

    def __init__(self, url: str, prefix: str = "dmd:") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    def get(self, key: str) -> Any | None:
        """The value, or None when absent or expired."""
        raw = self.client.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int) -> None:
        """Store a value for ttl seconds."""
        self.client.set(self.prefix + key, json.dumps(value), ex=ttl)

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Store only when the key is absent; True when this call stored it."""
        return bool(self.client.set(self.prefix + key, json.dumps(value), ex=ttl, nx=True))

    def take(self, key: str) -> Any | None:
        """Remove and return the value atomically (GETDEL)."""
        raw = self.client.getdel(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def delete(self, key: str) -> None:
        """Forget a key."""
        self.client.delete(self.prefix + key)


def shared_store() -> SharedStore:
    """The store configured for this application (one per app, made on first use)."""
    store = current_app.extensions.get("lti_store")
    if store is None:
        url = current_app.config.get("REDIS_URL")
        store = RedisStore(url) if url else DatabaseStore()
        current_app.extensions["lti_store"] = store
    return store


class SharedLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3's storage interface over the shared store.

    No session cookie: an LMS iframe may not send one back, and every key pylti1p3 stores
    here (state, nonce) is random and unguessable on its own.
    """

    def __init__(self, store: SharedStore, lifetime: int) -> None:
        super().__init__()
        self.store = store
        self.lifetime = lifetime

    def get_session_cookie_name(self) -> str | None:
        """No cookie-bound session id (see the class docstring)."""
        return None

    def can_set_keys_expiration(self) -> bool:
        """Every backend expires keys."""
        return True

    def get_value(self, key: str) -> Any:
        """pylti1p3 read."""
        return self.store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        """pylti1p3 write."""
        self.store.set(self._prepare_key(key), value, exp or self.lifetime)

    def check_value(self, key: str) -> bool:
        """pylti1p3 presence check."""
        return self.get_value(key) is not None

    def take_value(self, key: str) -> Any:
        """Read and delete in one step (single-use values)."""
        return self.store.take(self._prepare_key(key))


class SharedSessionService(SessionService):
    """pylti1p3's session service, with the nonce kept inside the login's state record.

    The library stores nonces on their own and only checks that one exists, so a nonce
    could be used twice. Here the nonce lives in the state record, which the launch takes
    (reads and deletes) atomically: a nonce is good for one launch, from the login that
    issued it, and costs no extra write.
    """

    def __init__(self, storage: SharedLaunchDataStorage) -> None:
        self.data_storage = storage
        self._launch_data_lifetime = storage.lifetime

    def save_nonce(self, nonce: str) -> None:
        """Nothing to do: the login saves the nonce with its state (see the class doc)."""

    def check_nonce(self, nonce: str) -> bool:
        """Never used: the launch compares the nonce with its taken state record."""
        raise NotImplementedError("nonces are checked against the login's state record")

    def take_state_params(self, state: str) -> dict | None:
        """The login's parameters for this state, removed so the state is single-use."""
        return self.data_storage.take_value(self._get_key(state))

    def peek_state_params(self, state: str) -> dict | None:
        """The login's parameters for this state, left in place (a launch that must first
        read its proof from Platform Storage takes them afterwards)."""
        return self.data_storage.get_value(self._get_key(state))
