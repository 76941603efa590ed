"""Django's Redis cache backend, with one Redis client kept per connection pool.

Django's client builds a new `redis.Redis` object for every cache call (RedisCacheClient.get_client), and
setting one up costs more Python than the round trip of a small GET on loopback: about 0.13 ms per call,
and a cached page makes two or three calls (the session, the second-factor answer, the content). A
`redis.Redis` only wraps its pool, takes a connection from it per command and is safe to share between
threads (redis-py's own guidance), so one per pool does the same work.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # two threads may both build one; either is fine to keep
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    """settings.CACHES' BACKEND: `pathway.lib.redis_cache.ReusedClientRedisCache`."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClient
