"""The project's Redis cache backend (pathway/lib/redis_cache.py): Django's, keeping one client object
per connection pool instead of building one per call. Against the real Redis of REDIS_URL."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache

from pathway.lib.redis_cache import ReusedClientRedisCache


@pytest.fixture
def redis_cache(redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    cache = ReusedClientRedisCache(redis_url, {"KEY_PREFIX": prefix})
    yield cache
    # Only this test's keys: the database is the broker's too (never cache.clear() here).
    client = cache._cache.get_client(write=True)
    if keys := list(client.scan_iter(match=f"{prefix}:*")):
        client.delete(*keys)
    cache.close()


def test_it_is_djangos_redis_cache_with_one_client_per_pool(redis_cache):
    assert isinstance(redis_cache, RedisCache)
    client = redis_cache._cache
    assert client.get_client() is client.get_client()
    assert client.get_client(write=True) is client.get_client(write=True)
    # Django's own builds a new one per call: the difference this module exists for.
    plain = RedisCache(redis_cache._servers, {})
    assert plain._cache.get_client() is not plain._cache.get_client()


def test_every_operation_the_site_uses_round_trips(redis_cache):
    assert redis_cache.get("missing") is None
    redis_cache.set("page", ("<p>content</p>", 1767225600.0), 60)
    assert redis_cache.get("page") == ("<p>content</p>", 1767225600.0)
    assert redis_cache.add("page", "other") is False
    redis_cache.set_many({"a": 1, "b": {"nested": [1, 2]}})
    assert redis_cache.get_many(["a", "b", "c"]) == {"a": 1, "b": {"nested": [1, 2]}}
    assert redis_cache.incr("a", 4) == 5
    assert redis_cache.touch("a", 30) is True
    redis_cache.delete_many(["a", "b"])
    assert redis_cache.get("a") is None
    assert redis_cache.delete("page") is True and redis_cache.get("page") is None


def test_threads_sharing_the_client_each_read_their_own_values(redis_cache):
    """gunicorn's threads share one client: 8 threads writing and reading their own keys never see
    another thread's value."""
    wrong, errors = [], []

    def work(n: int) -> None:
        try:
            for i in range(100):
                redis_cache.set(f"t{n}:{i}", (n, i))
                if redis_cache.get(f"t{n}:{i}") != (n, i):
                    wrong.append((n, i))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and wrong == []
    assert len(redis_cache._cache._clients) == 1
