"""The keyset pager's read-ahead (the next page is requested while the caller consumes this one),
sync and async, against a scripted transport: every page in order, errors where they belong, and
nothing left running or sent once the caller stops."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

import cairn
from cairn.gcpause import gc_paused
from cairn.sdk import BadRequestError
from cairn.sdk import _pagination as pagination

PAGES, PER_PAGE = 5, 3
PREFETCH = "cairn-prefetch"


def _resource(n: int) -> dict[str, Any]:
    return {
        "id": f"r{n:04d}",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
        "entity_type": "table",
        "workspace_id": "w",
        "title": f"table {n}",
    }


class Scan:
    """``/resource/scan`` over PAGES pages of PER_PAGE resources; ``fail_page`` answers 400."""

    def __init__(self, fail_page: int | None = None) -> None:
        self.fail_page = fail_page
        self.afters: list[str | None] = []  # the ``after`` of every scan request, in order
        self.lock = threading.Lock()

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/users/me/organizations":
            return httpx.Response(200, json=[])
        assert request.url.path == "/resource/scan"
        after = request.url.params.get("after")
        size = int(request.url.params["page_size"])
        with self.lock:
            self.afters.append(after)
        start = 0 if after is None else int(after[1:]) + 1
        if self.fail_page is not None and start == (self.fail_page - 1) * size:
            return httpx.Response(400, json={"detail": "page refused", "fields": {"after": "bad"}})
        ids = range(start, min(start + size, PAGES * size))
        last = start + size >= PAGES * size
        next_id = None if last else f"r{ids[-1]:04d}"
        body = orjson.dumps({"results": [_resource(n) for n in ids], "next": next_id})
        headers = {} if next_id is None else {"Cairn-Next-After": next_id}
        return httpx.Response(200, content=body, headers={**headers, "Content-Type": "application/json"})


def _sync_client(scan: Scan) -> cairn.Client:
    http = httpx.Client(transport=httpx.MockTransport(scan.answer))
    return cairn.Client(base_url="http://scan.test", api_key="k", http_client=http)


def _async_client(scan: Scan, answer: Callable[[httpx.Request], Any] | None = None) -> cairn.AsyncClient:
    async def handle(request: httpx.Request) -> httpx.Response:
        if answer is not None:
            await answer(request)
        return scan.answer(request)

    transport = httpx.MockTransport(handle)
    return cairn.AsyncClient(
        base_url="http://scan.test", api_key="k", http_client=httpx.AsyncClient(transport=transport)
    )


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(PREFETCH)]


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    yield
    assert _prefetch_threads() == []


def test_sync_walk_reads_every_page_once_in_order() -> None:
    scan = Scan()
    with _sync_client(scan) as client:
        ids = [r.id for r in client.resources.list(page_size=PER_PAGE)]
    assert ids == [f"r{n:04d}" for n in range(PAGES * PER_PAGE)]
    assert scan.afters == [None] + [f"r{p * PER_PAGE - 1:04d}" for p in range(1, PAGES)]


def test_sync_break_stops_the_read_ahead() -> None:
    scan = Scan()
    with _sync_client(scan) as client:
        for seen, _ in enumerate(client.resources.list(page_size=PER_PAGE), 1):
            if seen == PER_PAGE + 1:  # the first item of page 2
                break
        # Page 3 was asked for while page 2 was consumed; the walk ended before anything else.
        assert len(scan.afters) == 3
        assert _prefetch_threads() == []
        client.resources.list(page_size=PER_PAGE).first()
    assert len(scan.afters) == 4  # first(): one request, nothing read ahead


def test_sync_error_on_page_3_surfaces_after_page_2() -> None:
    scan = Scan(fail_page=3)
    seen: list[str] = []

    def walk() -> None:
        for resource in client.resources.list(page_size=PER_PAGE):
            seen.append(resource.id)

    with _sync_client(scan) as client, pytest.raises(BadRequestError) as raised:
        walk()
    assert len(seen) == 2 * PER_PAGE
    assert raised.value.status_code == 400
    assert "/resource/scan" in str(raised.value)
    assert len(scan.afters) == 3  # nothing after the refused page


def test_sync_walk_after_close_fails_cleanly() -> None:
    scan = Scan()
    client = _sync_client(scan)
    walk = iter(client.resources.list(page_size=PER_PAGE))
    next(walk)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        list(walk)


def test_async_walk_reads_every_page_once_in_order() -> None:
    scan = Scan()

    async def walk() -> list[str]:
        async with _async_client(scan) as client:
            return [r.id async for r in client.resources.list(page_size=PER_PAGE)]

    assert asyncio.run(walk()) == [f"r{n:04d}" for n in range(PAGES * PER_PAGE)]
    assert len(scan.afters) == PAGES


def test_async_break_cancels_the_page_read_ahead() -> None:
    scan = Scan()
    released = asyncio.Event()
    started: list[str | None] = []

    async def slow_page_3(request: httpx.Request) -> None:
        if request.url.params.get("after") == f"r{2 * PER_PAGE - 1:04d}":
            started.append(request.url.params.get("after"))
            await released.wait()  # never set: only cancelling ends this request

    async def walk() -> None:
        async with _async_client(scan, slow_page_3) as client:
            seen = 0
            async for _ in client.resources.list(page_size=PER_PAGE):
                seen += 1
                if seen == PER_PAGE + 1:
                    break
            for _ in range(5):  # the loop finalises the abandoned generator on its next turns
                await asyncio.sleep(0)
            assert started == [f"r{2 * PER_PAGE - 1:04d}"]
            assert asyncio.all_tasks() == {asyncio.current_task()}  # page 3's request: cancelled
            assert len(scan.afters) == 2  # pages 1 and 2 answered, nothing sent after page 3

    asyncio.run(walk())


def test_async_error_on_page_3_surfaces_after_page_2() -> None:
    scan = Scan(fail_page=3)

    seen: list[str] = []

    async def walk() -> None:
        async with _async_client(scan) as client:
            async for resource in client.resources.list(page_size=PER_PAGE):
                seen.append(resource.id)

    with pytest.raises(BadRequestError):
        asyncio.run(walk())
    assert len(seen) == 2 * PER_PAGE
    assert len(scan.afters) == 3


def test_async_break_before_a_failed_read_ahead_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    scan = Scan(fail_page=2)

    async def walk() -> None:
        async with _async_client(scan) as client:
            pager = client.resources.list(page_size=PER_PAGE)
            pages = pager.pages()
            await pages.__anext__()
            for _ in range(5):
                await asyncio.sleep(0)  # page 2's request fails meanwhile
            await pages.aclose()

    asyncio.run(walk())
    gc.collect()
    assert "exception was never retrieved" not in caplog.text


def test_gc_pause_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_gc_pauses_overlapping_across_threads_end_with_the_last() -> None:
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with gc_paused():
            inside.set()
            leave.wait(5)

    other = threading.Thread(target=hold)
    other.start()
    inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still on
    leave.set()
    other.join(5)
    assert gc.isenabled()


@pytest.fixture
def scan_server() -> Iterator[str]:
    """``Scan`` behind a real socket (httpcore traces only real connections)."""
    scan = Scan()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            answer = scan.answer(httpx.Request("GET", f"http://scan.test{self.path}"))
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def timeline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the pager did, in order: 'sent <after>' when a scan request is on the wire,
    'parse <next>' when a page starts to be parsed."""
    events: list[str] = []
    traced, validate = pagination._traced, pagination._validate

    def tracing(req: Any, trace: Callable[[str, Any], Any]) -> Any:
        after = (req.params or {}).get("after")

        def record(event: str, info: Any) -> Any:
            if event.endswith(pagination.SENT_EVENT):
                events.append(f"sent {after}")
            return trace(event, info)

        return traced(req, record)

    def parsing(adapter: Any, content: bytes) -> Any:
        events.append(f"parse {orjson.loads(content).get('next')}")
        return validate(adapter, content)

    monkeypatch.setattr(pagination, "_traced", tracing)
    monkeypatch.setattr(pagination, "_validate", parsing)
    return events


def _sent_before_parsed(events: list[str]) -> None:
    # Page n's cursor is the ``after`` of page n + 1: that request left before page n was parsed.
    for at, event in enumerate(events):
        if event.startswith("parse ") and event != "parse None":
            assert f"sent {event.removeprefix('parse ')}" in events[:at], events


def test_sync_next_request_leaves_before_this_page_is_parsed(scan_server: str, timeline: list[str]) -> None:
    with cairn.Client(base_url=scan_server, api_key="k") as client:
        assert len(client.resources.list(page_size=PER_PAGE).to_list()) == PAGES * PER_PAGE
    _sent_before_parsed(timeline)
    assert timeline.count("parse None") == 1


def test_async_next_request_leaves_before_this_page_is_parsed(scan_server: str, timeline: list[str]) -> None:
    async def walk() -> int:
        async with cairn.AsyncClient(base_url=scan_server, api_key="k") as client:
            return len(await client.resources.list(page_size=PER_PAGE).to_list())

    assert asyncio.run(walk()) == PAGES * PER_PAGE
    _sent_before_parsed(timeline)
    assert timeline.count("parse None") == 1
