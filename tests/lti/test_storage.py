"""The shared store: the same behaviour from the database and from Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from lti_tool.lti.storage import DatabaseStore, RedisStore

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    if request.param == "database":
        with app.app_context():
            yield DatabaseStore()
        return
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    redis_store = RedisStore(REDIS_URL, prefix=f"test-{time.time_ns()}:")
    with app.app_context():
        yield redis_store


def test_set_get_delete(store):
    store.set("k", {"a": [1, 2]}, 60)
    assert store.get("k") == {"a": [1, 2]}
    store.set("k", "replaced", 60)
    assert store.get("k") == "replaced"
    store.delete("k")
    assert store.get("k") is None


def test_take_is_single_use(store):
    store.set("once", "value", 60)
    assert store.take("once") == "value"
    assert store.take("once") is None


def test_take_under_contention_gives_the_value_to_one_taker(store, app):
    store.set("race", "prize", 60)
    winners = []

    def take():
        with app.app_context():
            value = store.take("race")
            if value is not None:
                winners.append(value)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners == ["prize"]


def test_add_only_when_absent(store):
    assert store.add("a", 1, 60) is True
    assert store.add("a", 2, 60) is False
    assert store.get("a") == 1


def test_expired_values_are_gone(store):
    store.set("short", "x", 1)
    time.sleep(1.2)
    assert store.get("short") is None
    assert store.take("short") is None
    assert store.add("short", "y", 60) is True


def test_the_workers_housekeeping_removes_expired_rows_and_keeps_live_ones(app):
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.lti.models import CacheEntry
    from lti_tool.worker import every_job

    with app.app_context():
        store = DatabaseStore()
        app.extensions["lti_store"] = store
        store.set("stale", "x", 1)
        store.set("live", "y", 600)
        time.sleep(1.2)
        housekeeping = next(job for job in every_job() if job.name == "housekeeping")
        assert housekeeping.run(threading.Event()) == 1
        keys = db.session.scalars(select(CacheEntry.key)).all()
        assert "live" in keys and "stale" not in keys
        assert db.session.scalar(select(func.count()).select_from(CacheEntry)) == len(keys)
