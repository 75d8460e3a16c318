"""Who is calling: a key's workspace and role, and what that role may do."""

from __future__ import annotations

from dataclasses import dataclass

from cairn.core.errors import PermissionDenied

ROLES = ("admin", "editor", "viewer", "guest")


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    organization_id: str
    role: str
    key_id: str | None = None
    name: str = "system"

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "editor")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_drafts(self) -> bool:
        """Viewers and guests see only published resources."""
        return self.role in ("admin", "editor")

    def permissions(self) -> dict[str, bool]:
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
