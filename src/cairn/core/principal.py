"""Who is calling: a key's workspace, role and teams, and what that role may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from cairn.core.errors import PermissionDenied

ROLES = ("admin", "editor", "viewer", "guest")
# Most privileged first: a key tied to a user acts with the lesser of the two roles.
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def weaker_role(a: str, b: str) -> str:
    return a if _RANK.get(a, len(ROLES)) >= _RANK.get(b, len(ROLES)) else b


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    organization_id: str
    role: str
    key_id: str | None = None
    name: str = "system"
    # The catalog user the key belongs to (None for workspace keys and in-process tools).
    user_id: str | None = None
    # Teams the caller's user is a member of.
    teams: frozenset[str] = field(default_factory=frozenset)
    # CLOSED teams the caller is not in: what editors and viewers may not see alone.
    hidden_teams: frozenset[str] = field(default_factory=frozenset)
    default_team: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "editor")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_guest(self) -> bool:
        return self.role == "guest"

    @property
    def sees_drafts(self) -> bool:
        """Viewers and guests see only published resources."""
        return self.role in ("admin", "editor")

    def permissions(self) -> dict[str, bool]:
        """``current_user_permissions`` of an entity the caller sees (reads never show others)."""
        return {"read": True, "write": self.can_write, "execute": False}

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDenied(f"the {self.role} role cannot change the catalog")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied("only admins can do this")


def system_principal(workspace_id: str, organization_id: str) -> Principal:
    """The principal of in-process tools (CLI import, demo loader): a workspace admin."""
    return Principal(workspace_id=workspace_id, organization_id=organization_id, role="admin")
