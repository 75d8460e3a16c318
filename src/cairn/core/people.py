"""Users, teams and groups: the people a catalog's owners, assignees and team lists refer to.

Memberships (a user in a team or a group) are rows of one link table, so a user's ``teams`` and
a team's ``members`` are two views of the same facts. Every workspace has a default "General"
team; deleting another team moves resources that belonged only to it to the default team.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, select, update

from cairn.core import audit, records
from cairn.core.errors import InvalidInput
from cairn.core.principal import ROLES, Principal
from cairn.core.resources import PageRequest, PageResult
from cairn.models.common import iso, utc_now
from cairn.models.people import GroupWrite, TeamWrite, UserWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import catalog_user, membership, resource, team, user_group

U = catalog_user.c
TM = team.c
G = user_group.c
M = membership.c
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_TEAM_NAME = "General"
SIDEBAR_DEFAULTS = {
    "home": True,
    "catalog": True,
    "documents": True,
    "questions": True,
    "glossary": True,
    "collections": True,
}


# ---- memberships -------------------------------------------------------------------------------


def members_of(
    conn: Connection, workspace_id: str, kind: str, container_ids: Sequence[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if not container_ids:
        return found
    stmt = (
        select(M.container_id, M.user_id)
        .where(M.workspace_id == workspace_id, M.kind == kind, M.container_id.in_(list(container_ids)))
        .order_by(M.container_id, M.user_id)
    )
    for container_id, user_id in conn.execute(stmt):
        found[container_id].append(user_id)
    return found


def containers_of(
    conn: Connection, workspace_id: str, kind: str, user_ids: Sequence[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if not user_ids:
        return found
    stmt = (
        select(M.user_id, M.container_id)
        .where(M.workspace_id == workspace_id, M.kind == kind, M.user_id.in_(list(user_ids)))
        .order_by(M.user_id, M.container_id)
    )
    for user_id, container_id in conn.execute(stmt):
        found[user_id].append(container_id)
    return found


def _replace(
    conn: Connection, workspace_id: str, kind: str, pairs: Iterable[tuple[str, str]], where: Any
) -> None:
    conn.execute(delete(membership).where(M.workspace_id == workspace_id, M.kind == kind, where))
    rows = [
        {"workspace_id": workspace_id, "kind": kind, "container_id": c, "user_id": u}
        for c, u in dict.fromkeys(pairs)
    ]
    if rows:
        conn.execute(insert(membership), rows)


def set_members(
    conn: Connection, workspace_id: str, kind: str, container_id: str, user_ids: list[str]
) -> None:
    _replace(conn, workspace_id, kind, ((container_id, u) for u in user_ids), M.container_id == container_id)


def set_containers(
    conn: Connection, workspace_id: str, kind: str, user_id: str, container_ids: list[str]
) -> None:
    _replace(conn, workspace_id, kind, ((c, user_id) for c in container_ids), M.user_id == user_id)


def drop_from_resources(
    conn: Connection, workspace_id: str, field: str, value: str, *, when_emptied: list[str] | None = None
) -> int:
    """Remove ``value`` from every resource's ``field`` list; a list it empties becomes ``when_emptied``."""
    now = utc_now()
    changed = 0
    for pk in repo.member_pks(conn, workspace_id, field, value):
        current = conn.execute(select(resource.c[field]).where(resource.c.pk == pk)).scalar_one()
        remaining = [v for v in current if v != value]
        if not remaining and when_emptied:
            remaining = list(when_emptied)
        repo.update_row(conn, pk, workspace_id, {field: remaining, "updated_at": now})
        changed += 1
    return changed


def _scopes_changed() -> None:
    """Roles, teams and memberships decide what keys see: drop this process's cached principals.

    Other server processes pick the change up when their short key cache expires.
    """
    from cairn.core.keys import KeyResolver

    KeyResolver.clear_all()


# ---- users -------------------------------------------------------------------------------------


def check_role(value: str | None, *, field: str = "role") -> str:
    role = (value or "").strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"role must be one of Admin, Editor, Viewer, Guest (got '{value}')", field=field)
    return role


def check_email(value: str, *, field: str = "email") -> str:
    email = value.strip()
    if not EMAIL.match(email):
        raise InvalidInput(f"'{value}' is not a valid email address", field=field)
    return email


def user_json(row: Row[Any], teams: list[str], groups: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "first_name": row.first_name,
        "last_name": row.last_name,
        "display_name": " ".join(p for p in (row.first_name, row.last_name) if p) or row.email,
        "email": row.email,
        "role": row.role,
        "workspace_id": row.workspace_id,
        "workspace": row.workspace_id,
        "profile_picture": row.profile_picture,
        "pending": row.pending,
        "disabled": row.disabled,
        "is_service_account": row.is_service_account,
        "service_account_count_popularity": False,
        "new_feature_acknowledged": True,
        "last_login": iso(row.last_login),
        "user_groups": groups,
        "teams": teams,
        "bookmarks": [],
    }


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _json(self, conn: Connection, rows: Sequence[Row[Any]]) -> builtins.list[dict[str, Any]]:
        ids = [r.id for r in rows]
        ws = rows[0].workspace_id if rows else ""
        teams = containers_of(conn, ws, "team", ids)
        groups = containers_of(conn, ws, "group", ids)
        return [user_json(r, teams.get(r.id, []), groups.get(r.id, [])) for r in rows]

    def list(self, principal: Principal, paging: PageRequest) -> PageResult:
        with self.store.read() as conn:
            result = records.paged(
                conn,
                catalog_user,
                U.workspace_id == principal.workspace_id,
                [U.created_at, U.id],
                paging,
                lambda r: {"row": r},
            )
            result.items[:] = self._json(conn, [item["row"] for item in result.items])
            return result

    def get(self, principal: Principal, user_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = records.require(conn, catalog_user, principal.workspace_id, user_id)
            return self._json(conn, [row])[0]

    def create(self, principal: Principal, body: UserWrite) -> builtins.list[dict[str, Any]]:
        """One user (``email``) or several (the older ``emails`` body); all or nothing."""
        principal.require_admin()
        if body.email is not None and body.emails is not None:
            raise InvalidInput("send either email or emails, not both", field="email")
        if body.email is not None:
            emails = [check_email(body.email)]
        elif body.emails:
            emails = [check_email(e, field=f"emails[{i}]") for i, e in enumerate(body.emails)]
        else:
            raise InvalidInput("email is required", field="email")
        role = check_role(body.role or "viewer")
        team_ids = list(dict.fromkeys(body.teams or []))
        group_ids = list(dict.fromkeys((body.user_groups or []) + (body.groups or [])))
        if role == "guest" and not team_ids:
            raise InvalidInput("a Guest must be given at least one team", field="teams")
        ws = principal.workspace_id
        with self.store.write() as conn:
            records.existing_ids(conn, team, ws, team_ids, field="teams", noun="team")
            records.existing_ids(conn, user_group, ws, group_ids, field="user_groups", noun="group")
            rows = []
            for email in emails:
                now = utc_now()
                user_id = str(uuid.uuid4())
                values: dict[str, Any] = {
                    "workspace_id": ws,
                    "id": user_id,
                    "email": email,
                    "email_key": email.lower(),
                    "first_name": body.first_name or "",
                    "last_name": body.last_name or "",
                    "role": role,
                    "pending": True,
                    "disabled": bool(body.disabled),
                    "is_service_account": False,
                    "profile_picture": None,
                    "last_login": None,
                    "created_at": now,
                    "updated_at": now,
                }
                records.insert_unique(
                    conn,
                    catalog_user,
                    values,
                    message=f"a user with email {email} already exists",
                    field="email",
                )
                set_containers(conn, ws, "team", user_id, team_ids)
                set_containers(conn, ws, "group", user_id, group_ids)
                audit.record(
                    conn,
                    principal,
                    event="created",
                    resource_type="user",
                    resource_id=values["id"],
                    resource_title=email,
                )
                rows.append(
                    conn.execute(select(catalog_user).where(U.workspace_id == ws, U.id == user_id)).one()
                )
            return self._json(conn, rows)

    def update(self, principal: Principal, user_id: str, body: UserWrite) -> dict[str, Any]:
        principal.require_admin()
        sent = body.model_fields_set
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, catalog_user, ws, user_id, for_update=True)
            values: dict[str, Any] = {}
            for name in ("first_name", "last_name"):
                if name in sent:
                    values[name] = getattr(body, name) or ""
            if "email" in sent:
                if body.email is None:
                    raise InvalidInput("email cannot be null", field="email")
                values["email"] = check_email(body.email)
                values["email_key"] = values["email"].lower()
            if "role" in sent:
                values["role"] = check_role(body.role)
            if "disabled" in sent:
                if body.disabled is None:
                    raise InvalidInput("disabled cannot be null", field="disabled")
                values["disabled"] = body.disabled
            role = values.get("role", row.role)
            if "teams" in sent:
                team_ids = list(dict.fromkeys(body.teams or []))
                records.existing_ids(conn, team, ws, team_ids, field="teams", noun="team")
            else:
                team_ids = containers_of(conn, ws, "team", [row.id]).get(row.id, [])
            if role == "guest" and not team_ids:
                raise InvalidInput("a Guest must be given at least one team", field="teams")
            groups_sent = "user_groups" in sent or "groups" in sent
            group_ids = list(dict.fromkeys((body.user_groups or []) + (body.groups or [])))
            if groups_sent:
                records.existing_ids(conn, user_group, ws, group_ids, field="user_groups", noun="group")
            if values:
                values["updated_at"] = utc_now()
                records.update_unique(
                    conn,
                    catalog_user,
                    row.pk,
                    values,
                    message=f"a user with email {values.get('email')} already exists",
                    field="email",
                )
            if "teams" in sent:
                set_containers(conn, ws, "team", row.id, team_ids)
            if groups_sent:
                set_containers(conn, ws, "group", row.id, group_ids)
            if values or "teams" in sent or groups_sent:
                audit.record(
                    conn,
                    principal,
                    event="updated",
                    resource_type="user",
                    resource_id=row.id,
                    resource_title=values.get("email", row.email),
                    details={"fields": sorted(k for k in sent if k != "emails")},
                )
            fresh = conn.execute(select(catalog_user).where(U.pk == row.pk)).one()
            result = self._json(conn, [fresh])[0]
        _scopes_changed()
        return result

    def delete(self, principal: Principal, user_id: str) -> None:
        principal.require_admin()
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, catalog_user, ws, user_id, for_update=True)
            conn.execute(delete(membership).where(M.workspace_id == ws, M.user_id == row.id))
            for field in ("owners", "subscribers"):
                drop_from_resources(conn, ws, field, row.id)
            conn.execute(delete(catalog_user).where(U.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="user",
                resource_id=row.id,
                resource_title=row.email,
            )
        _scopes_changed()


# ---- teams -------------------------------------------------------------------------------------


def ensure_default_team(conn: Connection, workspace_id: str) -> str:
    existing = conn.execute(
        select(TM.id).where(TM.workspace_id == workspace_id, TM.is_default_team.is_(True))
    ).scalar_one_or_none()
    if existing is not None:
        return str(existing)
    now = utc_now()
    team_id = str(uuid.uuid4())
    conn.execute(
        insert(team).values(
            workspace_id=workspace_id,
            id=team_id,
            name=DEFAULT_TEAM_NAME,
            icon=None,
            description="Everyone in the workspace",
            type="OPEN",
            archived=False,
            is_default_team=True,
            onboarding_completed=True,
            sidebar_settings=dict(SIDEBAR_DEFAULTS),
            created_at=now,
            updated_at=now,
        )
    )
    return team_id


def team_json(row: Row[Any], members: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "name": row.name,
        "icon": row.icon,
        "type": row.type,
        "description": row.description,
        "sidebar_settings": {**SIDEBAR_DEFAULTS, **(row.sidebar_settings or {})},
        "workspace_id": row.workspace_id,
        "archived": row.archived,
        "is_default_team": row.is_default_team,
        "onboarding_completed": row.onboarding_completed,
        "onboarding_complete": row.onboarding_completed,
        "members": members,
    }


class TeamService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _json(self, conn: Connection, rows: Sequence[Row[Any]]) -> builtins.list[dict[str, Any]]:
        ws = rows[0].workspace_id if rows else ""
        members = members_of(conn, ws, "team", [r.id for r in rows])
        return [team_json(r, members.get(r.id, [])) for r in rows]

    def list(
        self, principal: Principal, paging: PageRequest, *, include_archived: bool = False
    ) -> PageResult:
        where = TM.workspace_id == principal.workspace_id
        if not include_archived:
            where = and_(where, TM.archived.is_(False))
        with self.store.read() as conn:
            result = records.paged(
                conn,
                team,
                where,
                [TM.is_default_team.desc(), TM.created_at, TM.id],
                paging,
                lambda r: {"row": r},
            )
            result.items[:] = self._json(conn, [item["row"] for item in result.items])
            return result

    def get(self, principal: Principal, team_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._json(conn, [records.require(conn, team, principal.workspace_id, team_id)])[0]

    def create(self, principal: Principal, body: TeamWrite) -> dict[str, Any]:
        principal.require_admin()
        if not body.name or not body.name.strip():
            raise InvalidInput("name is required", field="name")
        ws = principal.workspace_id
        with self.store.write() as conn:
            members = list(dict.fromkeys(body.members or []))
            records.existing_ids(conn, catalog_user, ws, members, field="members", noun="user")
            now = utc_now()
            sidebar = {
                **SIDEBAR_DEFAULTS,
                **(body.sidebar_settings.model_dump(exclude_none=True) if body.sidebar_settings else {}),
            }
            team_id = str(uuid.uuid4())
            conn.execute(
                insert(team).values(
                    workspace_id=ws,
                    id=team_id,
                    name=body.name,
                    icon=body.icon,
                    description=body.description,
                    type=body.type or "OPEN",
                    archived=bool(body.archived),
                    is_default_team=False,
                    onboarding_completed=False,
                    sidebar_settings=sidebar,
                    created_at=now,
                    updated_at=now,
                )
            )
            set_members(conn, ws, "team", team_id, members)
            audit.record(
                conn,
                principal,
                event="created",
                resource_type="team",
                resource_id=team_id,
                resource_title=body.name,
            )
            row = conn.execute(select(team).where(TM.workspace_id == ws, TM.id == team_id)).one()
            result = self._json(conn, [row])[0]
        _scopes_changed()
        return result

    def update(self, principal: Principal, team_id: str, body: TeamWrite) -> dict[str, Any]:
        principal.require_admin()
        sent = body.model_fields_set
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, team, ws, team_id, for_update=True)
            values: dict[str, Any] = {}
            if "name" in sent:
                if not body.name or not body.name.strip():
                    raise InvalidInput("name cannot be empty", field="name")
                values["name"] = body.name
            for name in ("icon", "description"):
                if name in sent:
                    values[name] = getattr(body, name)
            for name in ("type", "archived"):
                if name in sent:
                    if getattr(body, name) is None:
                        raise InvalidInput(f"{name} cannot be null", field=name)
                    values[name] = getattr(body, name)
            if values.get("archived") and row.is_default_team:
                raise InvalidInput("the default team cannot be archived", field="archived")
            if "sidebar_settings" in sent and body.sidebar_settings is not None:
                values["sidebar_settings"] = {
                    **SIDEBAR_DEFAULTS,
                    **(row.sidebar_settings or {}),
                    **body.sidebar_settings.model_dump(exclude_none=True),
                }
            if "members" in sent:
                members = list(dict.fromkeys(body.members or []))
                records.existing_ids(conn, catalog_user, ws, members, field="members", noun="user")
                set_members(conn, ws, "team", row.id, members)
            if values:
                values["updated_at"] = utc_now()
                conn.execute(update(team).where(TM.pk == row.pk).values(**values))
            if values or "members" in sent:
                audit.record(
                    conn,
                    principal,
                    event="updated",
                    resource_type="team",
                    resource_id=row.id,
                    resource_title=values.get("name", row.name),
                    details={"fields": sorted(sent)},
                )
            fresh = conn.execute(select(team).where(TM.pk == row.pk)).one()
            result = self._json(conn, [fresh])[0]
        _scopes_changed()
        return result

    def delete(self, principal: Principal, team_id: str) -> None:
        """Resources that belonged only to this team move to the default team."""
        principal.require_admin()
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, team, ws, team_id, for_update=True)
            if row.is_default_team:
                raise InvalidInput("the default team cannot be deleted", field="id")
            default_id = ensure_default_team(conn, ws)
            moved = drop_from_resources(conn, ws, "teams", row.id, when_emptied=[default_id])
            conn.execute(
                delete(membership).where(M.workspace_id == ws, M.kind == "team", M.container_id == row.id)
            )
            conn.execute(delete(team).where(TM.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="team",
                resource_id=row.id,
                resource_title=row.name,
                details={"resources_changed": moved},
            )
        _scopes_changed()


# ---- groups ------------------------------------------------------------------------------------


def group_json(row: Row[Any], users: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "users": users,
        "name": row.name,
        "icon": row.icon,
        "description": row.description,
        "workspace_id": row.workspace_id,
        "snowflake_role": row.snowflake_role,
    }


class GroupService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _json(self, conn: Connection, rows: Sequence[Row[Any]]) -> builtins.list[dict[str, Any]]:
        ws = rows[0].workspace_id if rows else ""
        users = members_of(conn, ws, "group", [r.id for r in rows])
        return [group_json(r, users.get(r.id, [])) for r in rows]

    def list(self, principal: Principal, paging: PageRequest) -> PageResult:
        with self.store.read() as conn:
            result = records.paged(
                conn,
                user_group,
                G.workspace_id == principal.workspace_id,
                [G.created_at, G.id],
                paging,
                lambda r: {"row": r},
            )
            result.items[:] = self._json(conn, [item["row"] for item in result.items])
            return result

    def get(self, principal: Principal, group_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._json(conn, [records.require(conn, user_group, principal.workspace_id, group_id)])[0]

    def create(self, principal: Principal, body: GroupWrite) -> dict[str, Any]:
        principal.require_admin()
        if not body.name or not body.name.strip():
            raise InvalidInput("name is required", field="name")
        ws = principal.workspace_id
        with self.store.write() as conn:
            users = list(dict.fromkeys(body.users or []))
            records.existing_ids(conn, catalog_user, ws, users, field="users", noun="user")
            now = utc_now()
            group_id = str(uuid.uuid4())
            conn.execute(
                insert(user_group).values(
                    workspace_id=ws,
                    id=group_id,
                    name=body.name,
                    icon=body.icon,
                    description=body.description,
                    snowflake_role=body.snowflake_role,
                    created_at=now,
                    updated_at=now,
                )
            )
            set_members(conn, ws, "group", group_id, users)
            audit.record(
                conn,
                principal,
                event="created",
                resource_type="group",
                resource_id=group_id,
                resource_title=body.name,
            )
            row = conn.execute(select(user_group).where(G.workspace_id == ws, G.id == group_id)).one()
            return self._json(conn, [row])[0]

    def update(self, principal: Principal, group_id: str, body: GroupWrite) -> dict[str, Any]:
        principal.require_admin()
        sent = body.model_fields_set
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, user_group, ws, group_id, for_update=True)
            values: dict[str, Any] = {}
            if "name" in sent:
                if not body.name or not body.name.strip():
                    raise InvalidInput("name cannot be empty", field="name")
                values["name"] = body.name
            for name in ("icon", "description", "snowflake_role"):
                if name in sent:
                    values[name] = getattr(body, name)
            if "users" in sent:
                users = list(dict.fromkeys(body.users or []))
                records.existing_ids(conn, catalog_user, ws, users, field="users", noun="user")
                set_members(conn, ws, "group", row.id, users)
            if values:
                values["updated_at"] = utc_now()
                conn.execute(update(user_group).where(G.pk == row.pk).values(**values))
            if values or "users" in sent:
                audit.record(
                    conn,
                    principal,
                    event="updated",
                    resource_type="group",
                    resource_id=row.id,
                    resource_title=values.get("name", row.name),
                    details={"fields": sorted(sent)},
                )
            fresh = conn.execute(select(user_group).where(G.pk == row.pk)).one()
            return self._json(conn, [fresh])[0]

    def delete(self, principal: Principal, group_id: str) -> None:
        principal.require_admin()
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, user_group, ws, group_id, for_update=True)
            drop_from_resources(conn, ws, "owners_groups", row.id)
            conn.execute(
                delete(membership).where(M.workspace_id == ws, M.kind == "group", M.container_id == row.id)
            )
            conn.execute(delete(user_group).where(G.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="group",
                resource_id=row.id,
                resource_title=row.name,
            )
