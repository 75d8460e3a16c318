"""Cairn: a self-hosted data catalog. ``import cairn`` gives the Python SDK.

>>> import cairn
>>> client = cairn.Client(base_url="http://127.0.0.1:8585", api_key="cairn_...")
>>> catalog = cairn.Catalog("catalog.db")  # the same SDK on a local database, no server

The SDK is imported on first use (PEP 562), so that ``cairn --help`` and the commands that do
not need it start without loading pydantic and httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cairn.models.collections import Collection as Collection
    from cairn.sdk import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name == "Collection":
        from cairn.models.collections import Collection

        return Collection
    sdk = importlib.import_module("cairn.sdk")
    if name == "__all__":
        return ["Collection", "__version__", *sdk.__all__]
    if name in sdk.__all__:
        value = getattr(sdk, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cairn' has no attribute {name!r}")
