"""``cairn.Client`` and ``cairn.AsyncClient``: the same surface, sync and async."""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Any

import httpx

from cairn.models.collections import Collection, Organization, Workspace
from cairn.sdk._base import DEFAULT_TIMEOUT, BaseClient, is_uuid, only_one, pick
from cairn.sdk._errors import APIConnectionError, ConfigurationError
from cairn.sdk.types import CollectionType


class Client(BaseClient):
    """A synchronous client.

    >>> client = Client(base_url="http://127.0.0.1:8585", api_key="cairn_...")
    >>> finance = client.collections.create("Models for finance", "Finance", CollectionType.MODEL)
    >>> client.collections.get("Finance").id == finance.id
    True
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        workspace: str | None = None,
        collection: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, organization, workspace, collection, timeout)
        self._http = http_client or httpx.Client(timeout=timeout)
        self._http.headers.update(self._headers())
        self.organization = self._wanted["organization"]
        self.workspace = self._wanted["workspace"]
        self.collection = self._wanted["collection"]

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = self._http.request(method, url, json=json, params=params)
        except httpx.TransportError as exc:
            raise APIConnectionError(f"cannot reach {method} {url}: {exc}") from exc
        return self._parse(response)

    @property
    def organization(self) -> str | None:
        return self._organization

    @organization.setter
    def organization(self, value: str | None) -> None:
        found = pick("organization", value, self.organizations.list())
        self._organization = found.id if found else None
        self._workspace = self._collection = None

    @property
    def workspace(self) -> str | None:
        return self._workspace

    @workspace.setter
    def workspace(self, value: str | None) -> None:
        if self._organization is None:
            if value is not None:
                raise ConfigurationError("set an organization before a workspace")
            return
        found = pick("workspace", value, self.workspaces.list())
        self._workspace = found.id if found else None
        self._collection = None

    @property
    def collection(self) -> str | None:
        return self._collection

    @collection.setter
    def collection(self, value: str | None) -> None:
        if value is None:
            self._collection = None
            return
        found = self.collections.get(value)
        if found is None:
            raise ConfigurationError(f"collection {value!r} not found")
        self._collection = found.id

    @cached_property
    def organizations(self) -> Organizations:
        return Organizations(self)

    @cached_property
    def workspaces(self) -> Workspaces:
        return Workspaces(self)

    @cached_property
    def collections(self) -> Collections:
        return Collections(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Organizations:
    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> builtins.list[Organization]:
        return [
            Organization.model_validate(o) for o in self._client.request("GET", "/users/me/organizations")
        ]


class Workspaces:
    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> builtins.list[Workspace]:
        path = f"/organizations/{self._client.organization}/orbits"
        return [Workspace.model_validate(w) for w in self._client.request("GET", path)]


class Collections:
    """``client.collections``: the seed-004 collections resource."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, collection_value: str | None = None) -> Collection | None:
        """A collection by id or exact, case-sensitive name; ``None`` when there is none.

        With no value, the client's default collection. Raises ``MultipleResourcesFoundError``
        when several collections share the name.
        """
        value = collection_value or self._client.collection
        if value is None:
            raise ConfigurationError("pass a collection id or name, or set client.collection")
        key = "id" if is_uuid(value) else "name"
        found = self._client.request("GET", f"{self._client._orbit_path()}/collections", params={key: value})
        return only_one("collection", value, [Collection.model_validate(c) for c in found])

    def list(self) -> builtins.list[Collection]:
        found = self._client.request("GET", f"{self._client._orbit_path()}/collections")
        return [Collection.model_validate(c) for c in found]

    def create(
        self,
        description: str,
        name: str,
        collection_type: CollectionType | str,
        tags: builtins.list[str] | None = None,
    ) -> Collection:
        body = {
            "description": description,
            "name": name,
            "collection_type": str(collection_type),
            "tags": tags,
        }
        created = self._client.request("POST", f"{self._client._orbit_path()}/collections", json=body)
        return Collection.model_validate(created)

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        tags: builtins.list[str] | None = None,
        *,
        collection_id: str | None = None,
    ) -> Collection:
        """Change only the fields given; the default collection when no id is passed."""
        target = self._client._collection_id(collection_id)
        body = {
            k: v for k, v in (("name", name), ("description", description), ("tags", tags)) if v is not None
        }
        updated = self._client.request(
            "PATCH", f"{self._client._orbit_path()}/collections/{target}", json=body
        )
        return Collection.model_validate(updated)

    def delete(self, collection_id: str | None = None) -> None:
        """Delete a collection (its members stay in the catalog, unlinked)."""
        target = self._client._collection_id(collection_id)
        self._client.request("DELETE", f"{self._client._orbit_path()}/collections/{target}")
        if target == self._client.collection:
            self._client._collection = None


class AsyncClient(BaseClient):
    """The asynchronous client: ``await client.setup_config(...)`` resolves the defaults."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        workspace: str | None = None,
        collection: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, organization, workspace, collection, timeout)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._http.headers.update(self._headers())
        self._configured = False

    async def setup_config(
        self, organization: str | None = None, workspace: str | None = None, collection: str | None = None
    ) -> None:
        wanted = {
            "organization": organization or self._wanted["organization"],
            "workspace": workspace or self._wanted["workspace"],
            "collection": collection or self._wanted["collection"],
        }
        orgs = [Organization.model_validate(o) for o in await self.request("GET", "/users/me/organizations")]
        org = pick("organization", wanted["organization"], orgs)
        self._organization = org.id if org else None
        self._workspace = self._collection = None
        if self._organization:
            found = await self.request("GET", f"/organizations/{self._organization}/orbits")
            ws = pick("workspace", wanted["workspace"], [Workspace.model_validate(w) for w in found])
            self._workspace = ws.id if ws else None
        self._configured = True
        if wanted["collection"] is not None:
            chosen = await self.collections.get(wanted["collection"])
            if chosen is None:
                raise ConfigurationError(f"collection {wanted['collection']!r} not found")
            self._collection = chosen.id

    async def _ensure_config(self) -> None:
        if not self._configured:
            await self.setup_config()

    async def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = await self._http.request(method, url, json=json, params=params)
        except httpx.TransportError as exc:
            raise APIConnectionError(f"cannot reach {method} {url}: {exc}") from exc
        return self._parse(response)

    @property
    def organization(self) -> str | None:
        return self._organization

    @property
    def workspace(self) -> str | None:
        return self._workspace

    @property
    def collection(self) -> str | None:
        return self._collection

    @collection.setter
    def collection(self, value: str | None) -> None:
        # An id is taken as given (no I/O in a setter); names resolve via setup_config(collection=...).
        if value is not None and not is_uuid(value):
            raise ConfigurationError(
                "set a collection by id here, or by name with await setup_config(collection=...)"
            )
        self._collection = value

    @cached_property
    def collections(self) -> AsyncCollections:
        return AsyncCollections(self)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class AsyncCollections:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _path(self) -> str:
        await self._client._ensure_config()
        return f"{self._client._orbit_path()}/collections"

    async def get(self, collection_value: str | None = None) -> Collection | None:
        value = collection_value or self._client.collection
        if value is None:
            raise ConfigurationError("pass a collection id or name, or set client.collection")
        key = "id" if is_uuid(value) else "name"
        found = await self._client.request("GET", await self._path(), params={key: value})
        return only_one("collection", value, [Collection.model_validate(c) for c in found])

    async def list(self) -> builtins.list[Collection]:
        return [Collection.model_validate(c) for c in await self._client.request("GET", await self._path())]

    async def create(
        self,
        description: str,
        name: str,
        collection_type: CollectionType | str,
        tags: builtins.list[str] | None = None,
    ) -> Collection:
        body = {
            "description": description,
            "name": name,
            "collection_type": str(collection_type),
            "tags": tags,
        }
        return Collection.model_validate(await self._client.request("POST", await self._path(), json=body))

    async def update(
        self,
        name: str | None = None,
        description: str | None = None,
        tags: builtins.list[str] | None = None,
        *,
        collection_id: str | None = None,
    ) -> Collection:
        path = await self._path()
        target = self._client._collection_id(collection_id)
        body = {
            k: v for k, v in (("name", name), ("description", description), ("tags", tags)) if v is not None
        }
        return Collection.model_validate(await self._client.request("PATCH", f"{path}/{target}", json=body))

    async def delete(self, collection_id: str | None = None) -> None:
        path = await self._path()
        target = self._client._collection_id(collection_id)
        await self._client.request("DELETE", f"{path}/{target}")
        if target == self._client.collection:
            self._client._collection = None
