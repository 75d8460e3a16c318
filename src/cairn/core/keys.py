"""API keys: random tokens, stored as SHA-256 digests (only a short prefix is kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, or_, select, update

from cairn.core.errors import AuthenticationFailed, InvalidInput, NotFound
from cairn.core.principal import ROLES, Principal, weaker_role
from cairn.core.visibility import team_scope
from cairn.models.common import iso, utc_now
from cairn.store import Store
from cairn.store.schema import api_key, catalog_user, workspace

TOKEN_PREFIX = "cairn_"
_CACHE_SECONDS = 5.0
# last_used_at is a hint, not an audit trail: write it at most this often per key.
_LAST_USED_EVERY_SECONDS = 60


@dataclass(frozen=True)
class CreatedKey:
    id: str
    name: str
    role: str
    workspace_id: str
    token: str
    user_id: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _find_user(conn: Connection, workspace_id: str, user: str) -> Row[Any]:
    """A catalog user by id or (case-insensitive) email."""
    by_email = catalog_user.c.email_key == user.strip().lower()
    row = conn.execute(
        select(catalog_user).where(
            catalog_user.c.workspace_id == workspace_id, or_(catalog_user.c.id == user, by_email)
        )
    ).first()
    if row is None:
        raise InvalidInput(f"no user with id or email '{user}' in this workspace", field="user")
    return row


def create_key(
    store: Store,
    *,
    workspace_id: str,
    name: str,
    role: str | None = None,
    expires_at: datetime | None = None,
    user: str | None = None,
) -> CreatedKey:
    """A new key; with ``user`` (id or email) it acts for that user and defaults to their role.

    A guest key must belong to a user: a guest sees only its user's teams.
    """
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key_id = str(uuid.uuid4())
    with store.write() as conn:
        if conn.execute(select(workspace.c.id).where(workspace.c.id == workspace_id)).first() is None:
            raise NotFound(f"workspace {workspace_id} does not exist", field="workspace")
        user_id = None
        if user is not None:
            owner = _find_user(conn, workspace_id, user)
            user_id = owner.id
            role = role or owner.role
        role = role or "admin"
        if role == "guest" and user_id is None:
            raise InvalidInput("a guest key must belong to a user (its teams are the user's)", field="user")
        conn.execute(
            api_key.insert().values(
                id=key_id,
                workspace_id=workspace_id,
                name=name,
                role=role,
                prefix=token[: len(TOKEN_PREFIX) + 6],
                key_hash=_digest(token),
                created_at=utc_now(),
                expires_at=expires_at,
                user_id=user_id,
            )
        )
    return CreatedKey(key_id, name, role, workspace_id, token, user_id)


def list_keys(store: Store, *, workspace_id: str) -> list[dict[str, object]]:
    with store.read() as conn:
        rows = conn.execute(
            select(api_key).where(api_key.c.workspace_id == workspace_id).order_by(api_key.c.created_at)
        ).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "user_id": r.user_id,
            "prefix": r.prefix,
            "created_at": iso(r.created_at),
            "expires_at": iso(r.expires_at),
            "revoked_at": iso(r.revoked_at),
            "last_used_at": iso(r.last_used_at),
        }
        for r in rows
    ]


def revoke_key(store: Store, *, workspace_id: str, key_id: str) -> None:
    try:
        uuid.UUID(key_id)
    except ValueError:
        raise NotFound(f"key {key_id} does not exist") from None
    with store.write() as conn:
        result = conn.execute(
            update(api_key)
            .where(
                api_key.c.workspace_id == workspace_id, api_key.c.id == key_id, api_key.c.revoked_at.is_(None)
            )
            .values(revoked_at=utc_now())
        )
        if result.rowcount == 0:
            raise NotFound(f"key {key_id} does not exist or is already revoked")
    KeyResolver.clear_all()


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class KeyResolver:
    """Token -> principal, with a short cache so hot read paths skip a query."""

    _instances: list[KeyResolver] = []

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        KeyResolver._instances.append(self)

    def _touch(self, key_id: str, last_used: datetime | None) -> None:
        now = utc_now()
        if last_used is not None and (now - _as_utc(last_used)).total_seconds() < _LAST_USED_EVERY_SECONDS:
            return
        with self.store.write() as conn:
            conn.execute(update(api_key).where(api_key.c.id == key_id).values(last_used_at=now))

    @classmethod
    def clear_all(cls) -> None:
        for resolver in cls._instances:
            with resolver._lock:
                resolver._cache.clear()

    def resolve(self, token: str) -> Principal:
        digest = _digest(token)
        return self._resolve(digest, lambda: api_key.c.key_hash == digest, "Invalid API key.")

    def resolve_id(self, key_id: str) -> Principal:
        """The principal of a key named by id: a signed UI session holds the id, never the token.

        The same revocation and expiry rules apply, so revoking a key ends its sessions too.
        """
        return self._resolve("id:" + key_id, lambda: api_key.c.id == key_id, "Your session has ended.")

    def _resolve(self, cache_key: str, where: Callable[[], ColumnElement[bool]], unknown: str) -> Principal:
        # ``where`` is only built on a miss: building the clause cost more than the cache hit.
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(cache_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = catalog_user.c
        with self.store.read() as conn:
            row = conn.execute(
                select(
                    api_key,
                    workspace.c.organization_id,
                    user.id.label("user_found"),
                    user.role.label("user_role"),
                    user.disabled.label("user_disabled"),
                )
                .join(workspace, workspace.c.id == api_key.c.workspace_id)
                .outerjoin(
                    catalog_user,
                    and_(user.workspace_id == api_key.c.workspace_id, user.id == api_key.c.user_id),
                )
                .where(where())
            ).first()
            if row is None:
                raise AuthenticationFailed(unknown)
            # The lookup is by digest; comparing again in constant time keeps the decision
            # itself free of timing differences whatever the index did.
            if not cache_key.startswith("id:") and not hmac.compare_digest(row.key_hash, cache_key):
                raise AuthenticationFailed(unknown)
            if row.revoked_at is not None:
                raise AuthenticationFailed("This API key has been revoked.")
            expires = row.expires_at
            if expires is not None and _as_utc(expires) <= utc_now():
                raise AuthenticationFailed("This API key has expired.")
            role = row.role
            if row.user_id is not None:
                if row.user_found is None:
                    raise AuthenticationFailed("The user of this API key no longer exists.")
                if row.user_disabled:
                    raise AuthenticationFailed("The user of this API key is disabled.")
                role = weaker_role(row.role, row.user_role)
            scope = team_scope(conn, row.workspace_id, row.user_id)
        self._touch(row.id, row.last_used_at)
        principal = Principal(
            workspace_id=row.workspace_id,
            organization_id=row.organization_id,
            role=role,
            key_id=row.id,
            name=row.name,
            user_id=row.user_id,
            teams=scope.teams,
            hidden_teams=scope.hidden_teams,
            default_team=scope.default_team,
        )
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[cache_key] = (now + _CACHE_SECONDS, principal)
        return principal
