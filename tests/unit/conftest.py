"""Fixtures of the store tests: each test runs against files and against a real Redis."""
from __future__ import annotations

import uuid

import pytest

from tests.redis_server import RedisServer, make_store, redis_server_binary


@pytest.fixture(scope="session")
def redis_server():
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (/usr/bin/redis-server): the Redis store is tested against a real server")
    with RedisServer() as server:
        yield server


@pytest.fixture(params=["file", "redis"])
def spec(request, tmp_path):
    """How to open the store under test, in this process or another: (kind, where, prefix)."""
    if request.param == "file":
        return ("file", str(tmp_path / "store"), "")
    server = request.getfixturevalue("redis_server")
    return ("redis", server.url, f"test-{uuid.uuid4().hex[:8]}")  # a fresh key space per test


@pytest.fixture
def store(spec):
    return make_store(spec)
