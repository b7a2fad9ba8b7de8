"""The Redis cache backend reuses one Redis client per pool (cartable/lib/cache.py)."""

from __future__ import annotations

from cartable.lib.cache import RedisCache


def test_values_round_trip_and_one_client_serves_every_call():
    cache = RedisCache("redis://127.0.0.1:6379/12", {"KEY_PREFIX": "cartable-test-cache"})
    cache.set("a", {"x": 1}, 30)
    assert cache.get("a") == {"x": 1}
    assert cache.get_many(["a", "missing"]) == {"a": {"x": 1}}
    assert cache.add("n", 0, 30)
    assert cache.incr("n") == 1
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share it
    cache.delete_many(["a", "n"])
    assert cache.get("a") is None
