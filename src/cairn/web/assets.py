"""The UI's static files, shipped inside the package and served from memory.

Files are read once at start-up. Their URLs carry a content hash (``?v=...``), so a browser may
cache them for a year and still sees a new release at once; a gzip copy is kept for clients that
accept it, which keeps the first load small without a compression middleware on the API.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
YEAR = 365 * 24 * 60 * 60


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    gzipped: bytes
    digest: str
    content_type: str


class StaticAssets:
    def __init__(self, package: str = "cairn.web", folder: str = "static") -> None:
        self._assets: dict[str, Asset] = {}
        root = resources.files(package).joinpath(folder)
        for entry in root.iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
            content_type = CONTENT_TYPES.get(suffix)
            if content_type is None or not entry.is_file():
                continue
            body = entry.read_bytes()
            self._assets[entry.name] = Asset(
                name=entry.name,
                body=body,
                gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                digest=hashlib.sha256(body).hexdigest()[:12],
                content_type=content_type,
            )

    def names(self) -> list[str]:
        return sorted(self._assets)

    def url(self, name: str) -> str:
        asset = self._assets[name]  # a template naming a missing file fails loudly
        return f"/ui/static/{name}?v={asset.digest}"

    def response(self, request: Request, name: str) -> Response:
        asset = self._assets.get(name)
        if asset is None:
            return Response("Not found.", status_code=404, media_type="text/plain")
        versioned = request.query_params.get("v") == asset.digest
        headers = {
            "Cache-Control": f"public, max-age={YEAR}, immutable" if versioned else "no-cache",
            "ETag": f'"{asset.digest}"',
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.content_type, headers=headers)
