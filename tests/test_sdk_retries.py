"""Retries against a real HTTP test server that answers 429 (or 5xx) before 200, sync and async."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import cairn
from cairn.sdk._base import RetryPolicy, retry_after
from cairn.sdk._ops import Req
from tests.live_server import free_port

TAG = {
    "id": "00000000-0000-0000-0000-0000000000a1",
    "created_at": "2026-01-01T00:00:00.000000Z",
    "updated_at": "2026-01-01T00:00:00.000000Z",
    "name": "PII",
    "workspace_id": "w",
}


class Script:
    """What the server answers: a queue of (status, headers) per path, then 200."""

    def __init__(self) -> None:
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.calls: list[tuple[str, str]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            script.calls.append((self.command, path))
            queue = script.failures.get(path) or []
            status, headers, body = (*queue.pop(0), {"detail": "try later"}) if queue else (200, {}, TAG)
            if path == "/users/me/organizations":
                body = []
            payload = json.dumps(body).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the clients sleep (recorded, not slept, to keep the suite fast)."""
    recorded: list[float] = []

    async def async_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr("cairn.sdk._client.time.sleep", recorded.append)
    monkeypatch.setattr("cairn.sdk._client.asyncio.sleep", async_sleep)
    return recorded


def test_429_then_200_honours_retry_after(server: tuple[str, Script], waits: list[float]) -> None:
    base, script = server
    script.failures["/tag/tags/a1"] = [(429, {"Retry-After": "3"}), (429, {"Retry-After": "1"})]
    with cairn.Client(base_url=base, api_key="k") as client:
        assert client.tags.get("a1").name == "PII"
    assert waits == [3.0, 1.0]
    assert script.calls.count(("GET", "/tag/tags/a1")) == 3


def test_async_client_retries_the_same_way(server: tuple[str, Script], waits: list[float]) -> None:
    base, script = server
    script.failures["/tag/tags/a1"] = [(429, {"Retry-After": "2"}), (503, {})]

    async def scenario() -> str:
        async with cairn.AsyncClient(base_url=base, api_key="k") as client:
            return (await client.tags.get("a1")).name

    assert asyncio.run(scenario()) == "PII"
    assert waits[0] == 2.0
    assert 0.25 <= waits[1] <= 1.0  # backoff 0.5 * 2**1 with jitter
    assert script.calls.count(("GET", "/tag/tags/a1")) == 3


def test_a_post_is_retried_on_429_but_not_on_5xx(server: tuple[str, Script], waits: list[float]) -> None:
    base, script = server
    script.failures["/tag/tags"] = [(429, {}), (502, {})]
    with cairn.Client(base_url=base, api_key="k") as client, pytest.raises(cairn.InternalServerError) as err:
        client.tags.create("PII")
    assert err.value.status_code == 502
    assert str(err.value).startswith("Error response 502 while requesting POST http://")
    assert script.calls.count(("POST", "/tag/tags")) == 2
    assert len(waits) == 1


def test_retries_give_up_after_max_retries(server: tuple[str, Script], waits: list[float]) -> None:
    base, script = server
    script.failures["/tag/tags/a1"] = [(503, {})] * 5
    client = cairn.Client(base_url=base, api_key="k", max_retries=3)
    with client, pytest.raises(cairn.InternalServerError, match="503 while requesting GET"):
        client.tags.get("a1")
    assert script.calls.count(("GET", "/tag/tags/a1")) == 4
    assert len(waits) == 3
    with cairn.Client(base_url=base, api_key="k", max_retries=0) as client, pytest.raises(cairn.APIError):
        client.tags.get("a1")


def test_connect_errors_are_retried_then_reported(waits: list[float]) -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(cairn.APIConnectionError, match="cannot reach GET http://127.0.0.1"):
        cairn.Client(base_url=base, api_key="k", timeout=2)
    assert len(waits) == 2


def test_backoff_grows_with_jitter_and_caps() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.5, max_backoff=4)
    get = Req("GET", "/x")
    for attempt, ceiling in enumerate([0.5, 1, 2, 4, 4, 4]):
        delays = {policy.after_status(get, 500, {}, attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays if d is not None)
        assert len(delays) > 1  # jittered
    assert policy.after_status(Req("PATCH", "/x"), 500, {}, 0) is None
    assert policy.after_status(Req("PATCH", "/x"), 429, {"retry-after": "120"}, 0) == 60.0
    assert policy.after_status(get, 404, {}, 0) is None


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
