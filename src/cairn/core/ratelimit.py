"""Write rate limits per workspace, counted in the database so every server process shares them.

Secoda documents 30 writes (POST, PUT, PATCH) per minute; reads are never limited. Each minute
has one counter row per workspace; a write takes a slot with one atomic upsert that refuses to
go past the limit, so parallel writers on any number of processes never overshoot it.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cairn.core.errors import RateLimited
from cairn.store import Store
from cairn.store.schema import rate_window

DEFAULT_WRITES_PER_MINUTE = 30
ENV_VAR = "CAIRN_WRITE_RATE_LIMIT"
W = rate_window.c


def limit_from_env(explicit: int | None = None) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_WRITES_PER_MINUTE
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_VAR} must be a whole number of writes per minute (0 disables)") from exc
    if value < 0:
        raise ValueError(f"{ENV_VAR} must not be negative")
    return value


class WriteRateLimiter:
    def __init__(self, store: Store, per_minute: int, *, scope: str = "secoda") -> None:
        self.store = store
        self.per_minute = per_minute
        self.scope = scope

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def hit(self, workspace_id: str, *, now: float | None = None) -> None:
        """Take one write slot for the workspace, or raise ``RateLimited`` with the wait in seconds."""
        if not self.enabled:
            return
        moment = time.time() if now is None else now
        minute = int(moment // 60)
        with self.store.write() as conn:
            hits = self._take(conn, workspace_id, minute)
            if hits == 1:
                conn.execute(
                    delete(rate_window).where(
                        W.workspace_id == workspace_id, W.scope == self.scope, W.minute < minute - 1
                    )
                )
        if hits is None:
            retry_after = max(1, math.ceil((minute + 1) * 60 - moment))
            raise RateLimited(
                f"Request was throttled: at most {self.per_minute} writes per minute per workspace. "
                f"Expected available in {retry_after} seconds.",
                retry_after=retry_after,
            )

    def _take(self, conn: Connection, workspace_id: str, minute: int) -> int | None:
        insert: Any = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(rate_window)
            .values(workspace_id=workspace_id, scope=self.scope, minute=minute, hits=1)
            .on_conflict_do_update(
                index_elements=[W.workspace_id, W.scope, W.minute],
                set_={"hits": W.hits + 1},
                where=W.hits < self.per_minute,
            )
            .returning(W.hits)
        )
        value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else int(value)
