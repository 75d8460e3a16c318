"""Tags, integrations, users, teams, groups and custom properties."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from cairn.models.custom_properties import (
    CustomProperty,
    CustomPropertyValue,
    CustomPropertyValueWrite,
    CustomPropertyWrite,
)
from cairn.models.integrations import Extraction, Integration, IntegrationCreate
from cairn.models.people import Group, GroupWrite, Team, TeamWrite, User, UserWrite
from cairn.models.tags import Tag, TagWrite
from cairn.sdk._crud import body, fetch, fetch_list, pages, remove, send
from cairn.sdk._ops import C, Call, Namespace, endpoint, paginated
from cairn.sdk._pagination import PageQuery

PAGE_SIZE = 100


class Tags(Namespace[C]):
    """Label-style tags (``/tag/tags``); a resource's ``tags`` list holds their ids.

    >>> pii = client.tags.create("PII", color="#E53E3E")
    >>> client.resources.update(table_id, tags=[pii.id])
    >>> [t.name for t in client.tags.list()]
    """

    @paginated
    def list(self, *, page_size: int = PAGE_SIZE) -> PageQuery[Tag]:
        return pages(Tag, "/tag/tags", page_size)

    @endpoint
    def get(self, tag_id: str) -> Call[Tag]:
        return (yield from fetch(Tag, f"/tag/tags/{tag_id}"))

    @endpoint
    def create(self, name: str, description: str | None = None, color: str | None = None) -> Call[Tag]:
        payload = body(TagWrite, None, _given(name=name, description=description, color=color))
        return (yield from send(Tag, "POST", "/tag/tags", payload))

    @endpoint
    def update(self, /, tag_id: str, **fields: Any) -> Call[Tag]:
        """Change only the fields given (``name``, ``description``, ``color``)."""
        return (yield from send(Tag, "PATCH", f"/tag/tags/{tag_id}", body(TagWrite, None, fields)))

    @endpoint
    def delete(self, tag_id: str) -> Call[None]:
        yield from remove(f"/tag/tags/{tag_id}")


class Integrations(Namespace[C]):
    """The sources that own databases, dashboards and jobs.

    >>> warehouse = client.integrations.create("warehouse", type="postgres")
    >>> client.resources.create(title="analytics", entity_type="database", integration=warehouse.id)
    """

    @paginated
    def list(self, *, type: str | None = None, page_size: int = PAGE_SIZE) -> PageQuery[Integration]:
        return pages(Integration, "/integration/integrations", page_size, type=type)

    @endpoint
    def get(self, integration_id: str) -> Call[Integration]:
        return (yield from fetch(Integration, f"/integration/integrations/{integration_id}"))

    @endpoint
    def create(
        self,
        name: str,
        type: str = "custom",
        teams: builtins.list[str] | None = None,
        credentials: Mapping[str, Any] | None = None,
    ) -> Call[Integration]:
        payload = body(
            IntegrationCreate, None, _given(name=name, type=type, teams=teams, credentials=credentials)
        )
        return (yield from send(Integration, "POST", "/integration/integrations", payload))

    @endpoint
    def delete(self, integration_id: str) -> Call[None]:
        yield from remove(f"/integration/integrations/{integration_id}")

    @paginated
    def extractions(
        self, integration_id: str | None = None, *, status: str | None = None, page_size: int = PAGE_SIZE
    ) -> PageQuery[Extraction]:
        """Ingestion runs, newest first: every import, dbt sync, run log and crawl, and how it ended.

        >>> failed = client.integrations.extractions(warehouse.id, status="failed").first()
        >>> failed.error if failed else "no failed runs"
        """
        return pages(
            Extraction, "/integration/extractions", page_size, integration_id=integration_id, status=status
        )


class Users(Namespace[C]):
    """Workspace members (``/user``).

    >>> ada = client.users.create(email="ada@example.com", first_name="Ada", role="editor")
    >>> client.users.update(ada.id, last_name="Lovelace").display_name
    """

    @paginated
    def list(self, *, page_size: int = PAGE_SIZE) -> PageQuery[User]:
        return pages(User, "/user", page_size)

    @endpoint
    def get(self, user_id: str) -> Call[User]:
        return (yield from fetch(User, f"/user/{user_id}"))

    @endpoint
    def create(self, /, email: str, **fields: Any) -> Call[User]:
        """Fields: ``first_name``, ``last_name``, ``role``, ``teams``, ``user_groups``."""
        return (yield from send(User, "POST", "/user", body(UserWrite, None, {"email": email, **fields})))

    @endpoint
    def update(self, /, user_id: str, **fields: Any) -> Call[User]:
        return (yield from send(User, "PATCH", f"/user/{user_id}", body(UserWrite, None, fields)))

    @endpoint
    def delete(self, user_id: str) -> Call[None]:
        yield from remove(f"/user/{user_id}")


class Teams(Namespace[C]):
    """Teams (``/auth/teams``); every workspace has the default team, General.

    >>> data = client.teams.create("Data", description="The data team", type="OPEN")
    """

    @paginated
    def list(self, *, include_archived: bool = False, page_size: int = PAGE_SIZE) -> PageQuery[Team]:
        archived = "true" if include_archived else None
        return pages(Team, "/auth/teams", page_size, include_archived=archived)

    @endpoint
    def get(self, team_id: str) -> Call[Team]:
        return (yield from fetch(Team, f"/auth/teams/{team_id}"))

    @endpoint
    def create(self, /, name: str, **fields: Any) -> Call[Team]:
        """Fields: ``icon``, ``description``, ``type`` (``OPEN``/``CLOSED``), ``members``."""
        return (yield from send(Team, "POST", "/auth/teams", body(TeamWrite, None, {"name": name, **fields})))

    @endpoint
    def update(self, /, team_id: str, **fields: Any) -> Call[Team]:
        return (yield from send(Team, "PATCH", f"/auth/teams/{team_id}", body(TeamWrite, None, fields)))

    @endpoint
    def delete(self, team_id: str) -> Call[None]:
        """Delete a team; resources that belonged only to it move to the default team."""
        yield from remove(f"/auth/teams/{team_id}")


class Groups(Namespace[C]):
    """User groups (``/auth/group``).

    >>> analysts = client.groups.create("Analysts", users=[ada.id])
    """

    @paginated
    def list(self, *, page_size: int = PAGE_SIZE) -> PageQuery[Group]:
        return pages(Group, "/auth/group", page_size)

    @endpoint
    def get(self, group_id: str) -> Call[Group]:
        return (yield from fetch(Group, f"/auth/group/{group_id}"))

    @endpoint
    def create(self, /, name: str, **fields: Any) -> Call[Group]:
        """Fields: ``icon``, ``description``, ``users``, ``snowflake_role``."""
        return (
            yield from send(Group, "POST", "/auth/group", body(GroupWrite, None, {"name": name, **fields}))
        )

    @endpoint
    def update(self, /, group_id: str, **fields: Any) -> Call[Group]:
        return (yield from send(Group, "PATCH", f"/auth/group/{group_id}", body(GroupWrite, None, fields)))

    @endpoint
    def delete(self, group_id: str) -> Call[None]:
        yield from remove(f"/auth/group/{group_id}")


CP = "/resource/all_v2/custom_properties"


class CustomProperties(Namespace[C]):
    """Custom property definitions and per-resource values.

    >>> owner_team = client.custom_properties.create("Owning team", "string", entity_types=["table"])
    >>> client.custom_properties.set_value(owner_team.id, table_id, "Payments")
    """

    @endpoint
    def list(self) -> Call[builtins.list[CustomProperty]]:
        """Every definition (the endpoint is not paginated)."""
        return (yield from fetch_list(CustomProperty, CP))

    @endpoint
    def get(self, property_id: str) -> Call[CustomProperty]:
        return (yield from fetch(CustomProperty, f"{CP}/{property_id}"))

    @endpoint
    def create(
        self, name: str, value_type: str, entity_types: builtins.list[str] | str | None = None
    ) -> Call[CustomProperty]:
        """``value_type``: string, text, markdown, number, boolean, date, url, user, select, multiselect."""
        fields = _given(name=name, value_type=value_type, entity_types=entity_types)
        return (yield from send(CustomProperty, "POST", CP, body(CustomPropertyWrite, None, fields)))

    @endpoint
    def update(self, /, property_id: str, **fields: Any) -> Call[CustomProperty]:
        payload = body(CustomPropertyWrite, None, fields)
        return (yield from send(CustomProperty, "PATCH", f"{CP}/{property_id}", payload))

    @endpoint
    def delete(self, property_id: str) -> Call[None]:
        yield from remove(f"{CP}/{property_id}")

    @endpoint
    def set_value(self, property_id: str, resource_id: str, value: Any) -> Call[CustomPropertyValue]:
        """Set a resource's value (``None`` clears it)."""
        payload = body(CustomPropertyValueWrite, None, {"value": value})
        return (yield from send(CustomPropertyValue, "PATCH", f"{CP}/{property_id}/{resource_id}", payload))


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
