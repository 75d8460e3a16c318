"""``client.collections`` (seed 004's DataForce collections), organizations and workspaces."""

from __future__ import annotations

import builtins

from cairn.models.collections import Collection, Organization, Workspace
from cairn.sdk._base import BaseClient, is_uuid, only_one
from cairn.sdk._errors import ConfigurationError
from cairn.sdk._ops import C, Call, Namespace, Req, endpoint
from cairn.sdk.types import CollectionType


def find_collection(client: BaseClient, value: str) -> Call[Collection | None]:
    yield from client._ensure_configured()
    key = "id" if is_uuid(value) else "name"
    reply = yield Req("GET", f"{client._orbit_path()}/collections", params={key: value})
    return only_one("collection", value, [Collection.model_validate(c) for c in reply.json()])


class Organizations(Namespace[C]):
    @endpoint
    def list(self) -> Call[builtins.list[Organization]]:
        """The organizations the key belongs to (one: a key belongs to one workspace)."""
        reply = yield Req("GET", "/users/me/organizations")
        return [Organization.model_validate(o) for o in reply.json()]


class Workspaces(Namespace[C]):
    @endpoint
    def list(self) -> Call[builtins.list[Workspace]]:
        """The workspaces (DataForce: orbits) of the default organization."""
        yield from self._client._ensure_configured()
        if self._client.organization is None:
            raise ConfigurationError("no default organization: set client.organization")
        reply = yield Req("GET", f"/organizations/{self._client.organization}/orbits")
        return [Workspace.model_validate(w) for w in reply.json()]


class Collections(Namespace[C]):
    """Collections of the default workspace, as seed 004 documents them.

    >>> finance = client.collections.create("Models for finance", "Finance", CollectionType.MODEL)
    >>> client.collections.get("Finance") == finance  # by exact, case-sensitive name or by id
    True
    >>> client.collection = finance.id  # the default for update() and delete()
    >>> client.collections.update(description="Revenue models").description
    'Revenue models'
    """

    @endpoint
    def get(self, collection_value: str | None = None) -> Call[Collection | None]:
        """A collection by id or exact, case-sensitive name; ``None`` when there is none.

        With no value, the client's default collection. Raises ``MultipleResourcesFoundError``
        when several collections share the name.
        """
        value = collection_value or self._client.collection
        if value is None:
            raise ConfigurationError("pass a collection id or name, or set client.collection")
        return (yield from find_collection(self._client, value))

    @endpoint
    def list(self) -> Call[builtins.list[Collection]]:
        """Every collection of the default workspace, in workspace order."""
        yield from self._client._ensure_configured()
        reply = yield Req("GET", f"{self._client._orbit_path()}/collections")
        return [Collection.model_validate(c) for c in reply.json()]

    @endpoint
    def create(
        self,
        description: str,
        name: str,
        collection_type: CollectionType | str | None,
        tags: builtins.list[str] | None = None,
    ) -> Call[Collection]:
        """Create a collection (``CollectionType.MODEL``, ``DATASET`` or ``None``)."""
        yield from self._client._ensure_configured()
        body = {
            "description": description,
            "name": name,
            "collection_type": None if collection_type is None else str(collection_type),
            "tags": tags,
        }
        reply = yield Req("POST", f"{self._client._orbit_path()}/collections", json=body)
        return Collection.model_validate(reply.json())

    @endpoint
    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        tags: builtins.list[str] | None = None,
        *,
        collection_id: str | None = None,
    ) -> Call[Collection]:
        """Change only the fields given; the default collection when no id is passed."""
        yield from self._client._ensure_configured()
        target = self._client._collection_id(collection_id)
        body = {
            k: v for k, v in (("name", name), ("description", description), ("tags", tags)) if v is not None
        }
        reply = yield Req("PATCH", f"{self._client._orbit_path()}/collections/{target}", json=body)
        return Collection.model_validate(reply.json())

    @endpoint
    def delete(self, collection_id: str | None = None) -> Call[None]:
        """Delete a collection (its members stay in the catalog, unlinked)."""
        yield from self._client._ensure_configured()
        target = self._client._collection_id(collection_id)
        yield Req("DELETE", f"{self._client._orbit_path()}/collections/{target}")
        if target == self._client.collection:
            self._client._collection = None
