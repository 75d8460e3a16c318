"""Write rate limits per workspace, shared by every server process through the database (or
through Redis when ``CAIRN_REDIS_URL`` is set).

Secoda documents 30 writes (POST, PUT, PATCH) per minute; Kontent.ai 10 requests a second and
400 a minute per environment. Reads are never limited. Each window (a second, a minute) has one
counter per workspace; a write takes a slot in every window of its face at once, or in none:

- database: one atomic upsert per window that refuses to go past the limit, all in one
  transaction, so a refusal by the minute window gives back the second's slot and parallel
  writers on any number of processes never overshoot;
- Redis: one Lua script checks every window and increments them only if all have room.

A Redis that cannot be reached falls back to the database counters, so a limiter failure is
never a 500.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cairn.core.errors import RateLimited
from cairn.store import Store
from cairn.store.schema import rate_window

DEFAULT_WRITES_PER_MINUTE = 30
ENV_VAR = "CAIRN_WRITE_RATE_LIMIT"
KONTENT_PER_SECOND_VAR = "CAIRN_KONTENT_RATE_PER_SECOND"
KONTENT_PER_MINUTE_VAR = "CAIRN_KONTENT_RATE_PER_MINUTE"
DEFAULT_KONTENT_PER_SECOND = 10
DEFAULT_KONTENT_PER_MINUTE = 400
REDIS_URL_VAR = "CAIRN_REDIS_URL"
W = rate_window.c
log = logging.getLogger(__name__)


def _env_int(name: str, default: int, explicit: int | None = None) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number (0 disables)") from exc
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def limit_from_env(explicit: int | None = None) -> int:
    """Secoda-face writes per workspace and minute."""
    try:
        return _env_int(ENV_VAR, DEFAULT_WRITES_PER_MINUTE, explicit)
    except ValueError as exc:
        raise ValueError(f"{ENV_VAR} must be a whole number of writes per minute (0 disables)") from exc


@dataclass(frozen=True)
class Window:
    seconds: int
    limit: int
    scope: str  # the counter's name in the database and in Redis keys (at most 16 characters)

    def bucket(self, moment: float) -> int:
        return int(moment // self.seconds)

    def retry_after(self, moment: float) -> int:
        return max(1, math.ceil((self.bucket(moment) + 1) * self.seconds - moment))


# Checks every window, then takes a slot in each only if all have room; returns the 1-based
# index of the first full window, or 0. KEYS: one counter per window; ARGV: limits, then TTLs.
_REDIS_SCRIPT = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[#KEYS + i])
end
return 0
"""


class RateLimiter:
    def __init__(
        self,
        store: Store,
        windows: Sequence[Window],
        *,
        describe: str,
        redis_url: str | None = None,
    ) -> None:
        self.store = store
        self.windows = [w for w in windows if w.limit > 0]
        self.describe = describe
        self._redis_script: Any = None
        if redis_url and self.windows:
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
            self._redis_script = client.register_script(_REDIS_SCRIPT)

    @property
    def enabled(self) -> bool:
        return bool(self.windows)

    def hit(self, workspace_id: str, *, now: float | None = None) -> None:
        """Take one slot for the workspace, or raise ``RateLimited`` with the wait in seconds."""
        if not self.enabled:
            return
        moment = time.time() if now is None else now
        if self._redis_script is None:
            full = self._take_database(workspace_id, moment)
        else:
            import redis

            try:
                full = self._take_redis(workspace_id, moment)
            except redis.RedisError as exc:
                log.warning("rate limit: Redis unavailable (%s); counting in the database", exc)
                full = self._take_database(workspace_id, moment)
        if full is not None:
            retry_after = full.retry_after(moment)
            raise RateLimited(
                f"Request was throttled: at most {self.describe}. "
                f"Expected available in {retry_after} seconds.",
                retry_after=retry_after,
            )

    def _take_redis(self, workspace_id: str, moment: float) -> Window | None:
        """The full window, or None when a slot was taken in every window."""
        keys = [f"cairn:rate:{w.scope}:{workspace_id}:{w.bucket(moment)}" for w in self.windows]
        args = [w.limit for w in self.windows] + [w.seconds * 2 for w in self.windows]
        refused = int(self._redis_script(keys=keys, args=args))
        return self.windows[refused - 1] if refused else None

    def _take_database(self, workspace_id: str, moment: float) -> Window | None:
        try:
            with self.store.write() as conn:
                for window in self.windows:
                    bucket = window.bucket(moment)
                    hits = self._take(conn, workspace_id, window, bucket)
                    if hits is None:
                        raise _Full(window)
                    if hits == 1:
                        conn.execute(
                            delete(rate_window).where(
                                W.workspace_id == workspace_id, W.scope == window.scope, W.minute < bucket - 1
                            )
                        )
        except _Full as full:  # the transaction rolled back: no window kept a slot
            return full.window
        return None

    @staticmethod
    def _take(conn: Connection, workspace_id: str, window: Window, bucket: int) -> int | None:
        insert: Any = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        # ``minute`` holds the window's bucket number (minutes for a minute window, seconds for a
        # second window); the scope tells them apart.
        stmt = (
            insert(rate_window)
            .values(workspace_id=workspace_id, scope=window.scope, minute=bucket, hits=1)
            .on_conflict_do_update(
                index_elements=[W.workspace_id, W.scope, W.minute],
                set_={"hits": W.hits + 1},
                where=W.hits < window.limit,
            )
            .returning(W.hits)
        )
        value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else int(value)


class _Full(Exception):
    def __init__(self, window: Window) -> None:
        super().__init__(window.scope)
        self.window = window


class WriteRateLimiter(RateLimiter):
    """Secoda's face: ``per_minute`` writes per workspace (0 disables)."""

    def __init__(self, store: Store, per_minute: int, *, redis_url: str | None = None) -> None:
        super().__init__(
            store,
            [Window(60, per_minute, "secoda")],
            describe=f"{per_minute} writes per minute per workspace",
            redis_url=redis_url,
        )
        self.per_minute = per_minute


def kontent_limiter(
    store: Store,
    *,
    per_second: int | None = None,
    per_minute: int | None = None,
    redis_url: str | None = None,
) -> RateLimiter:
    """Kontent.ai's face: 10 requests a second and 400 a minute per environment by default."""
    second, minute = kontent_limits_from_env(per_second, per_minute)
    parts = [f"{second} requests per second" if second else "", f"{minute} per minute" if minute else ""]
    return RateLimiter(
        store,
        [Window(1, second, "kontent_s"), Window(60, minute, "kontent_m")],
        describe=" and ".join(p for p in parts if p) + " per environment",
        redis_url=redis_url,
    )


def kontent_limits_from_env(per_second: int | None = None, per_minute: int | None = None) -> tuple[int, int]:
    return (
        _env_int(KONTENT_PER_SECOND_VAR, DEFAULT_KONTENT_PER_SECOND, per_second),
        _env_int(KONTENT_PER_MINUTE_VAR, DEFAULT_KONTENT_PER_MINUTE, per_minute),
    )


def redis_url_from_env() -> str | None:
    return os.environ.get(REDIS_URL_VAR, "").strip() or None
