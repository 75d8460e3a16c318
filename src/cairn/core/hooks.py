"""Extension points inside write transactions (e.g. seeding a new workspace)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from cairn.core.tenancy import WorkspaceRef

WorkspaceHook = Callable[[Connection, "WorkspaceRef"], None]
_workspace_created: list[WorkspaceHook] = []


def on_workspace_created(hook: WorkspaceHook) -> WorkspaceHook:
    _workspace_created.append(hook)
    return hook


def run_workspace_created(conn: Connection, ref: WorkspaceRef) -> None:
    for hook in _workspace_created:
        hook(conn, ref)
