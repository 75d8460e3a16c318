"""Secoda's write rate limit (per workspace and minute, shared through the database), the
``cairn serve`` switch, and the catch-all for pysecoda's doubled URLs."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from cairn.api.app import create_app
from cairn.core.errors import RateLimited
from cairn.core.keys import create_key
from cairn.core.ratelimit import RateLimiter, WriteRateLimiter, kontent_limiter, limit_from_env


def _client(api, limit: int) -> TestClient:
    app = create_app(api.store, migrate=False, write_rate_limit=limit)
    client = TestClient(app)
    client.headers.update(api.headers)
    return client


def test_writes_over_the_limit_get_429_with_retry_after_and_reads_never_do(api):
    with _client(api, 3) as client:
        codes = [client.post("/document", json={"title": f"d{i}"}).status_code for i in range(3)]
        assert codes == [201, 201, 201]
        limited = client.patch("/tag/tags/00000000-0000-4000-8000-000000000000", json={"name": "x"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "3 writes per minute" in limited.json()["detail"]
        for _ in range(10):
            assert client.get("/resource/catalog").status_code == 200
        # deletes are not in Secoda's documented PUT/PATCH/POST limit; other faces have their own
        doc = client.get("/document").json()["results"][0]
        assert client.delete(f"/document/{doc['id']}").status_code == 204
    assert api.client.get("/document").json()["count"] == 2


def test_the_limit_is_per_workspace_and_shared_by_every_app_on_the_database(api):
    from cairn.core.tenancy import create_workspace

    with api.store.write() as conn:
        other = create_workspace(conn, organization_id=api.workspace.organization_id, name="other")
    other_key = create_key(api.store, workspace_id=other.id, name="other", role="admin")
    with _client(api, 2) as first, _client(api, 2) as second:
        assert first.post("/tag/tags", json={"name": "a"}).status_code == 201
        assert second.post("/tag/tags", json={"name": "b"}).status_code == 201
        assert first.post("/tag/tags", json={"name": "c"}).status_code == 429
        elsewhere = second.post(
            "/tag/tags", json={"name": "c"}, headers={"Authorization": f"Bearer {other_key.token}"}
        )
        assert elsewhere.status_code == 201


def test_parallel_writers_never_overshoot(api):
    limiter = WriteRateLimiter(api.store, 5)

    def attempt(_: int) -> bool:
        try:
            limiter.hit(api.workspace.id, now=120.5)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(6) as pool:
        taken = list(pool.map(attempt, range(20)))
    assert sum(taken) == 5
    # the next minute starts afresh; the wait names the seconds left in this one
    limiter.hit(api.workspace.id, now=180.0)
    for _ in range(4):
        limiter.hit(api.workspace.id, now=200.0)
    with pytest.raises(RateLimited) as caught:
        limiter.hit(api.workspace.id, now=200.0)
    assert caught.value.retry_after == 40


def test_zero_disables_and_the_environment_sets_the_default(monkeypatch, api):
    with _client(api, 0) as client:
        assert all(client.post("/tag/tags", json={"name": f"t{i}"}).status_code == 201 for i in range(40))
    monkeypatch.setenv("CAIRN_WRITE_RATE_LIMIT", "7")
    assert limit_from_env() == 7
    monkeypatch.delenv("CAIRN_WRITE_RATE_LIMIT")
    assert limit_from_env() == 30
    monkeypatch.setenv("CAIRN_WRITE_RATE_LIMIT", "lots")
    with pytest.raises(ValueError, match="CAIRN_WRITE_RATE_LIMIT"):
        limit_from_env()


def test_serve_passes_the_limit_to_every_worker(monkeypatch):
    import os
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from cairn.cli import main

    monkeypatch.setenv("CAIRN_WRITE_RATE_LIMIT", "0")  # restored after the test
    started: dict[str, object] = {}
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.update(k))
    fake_store = SimpleNamespace(dispose=lambda: None)
    monkeypatch.setattr(main, "_open", lambda db: (fake_store, SimpleNamespace(id="w"), None))
    result = CliRunner().invoke(main.app, ["serve", "--write-rate-limit", "12", "--db", "x.db"])
    assert result.exit_code == 0, result.output
    assert started["factory"] is True
    assert os.environ["CAIRN_WRITE_RATE_LIMIT"] == "12"
    assert CliRunner().invoke(main.app, ["serve", "--write-rate-limit", "-1"]).exit_code != 0


def test_a_whole_url_inside_the_path_is_served_as_its_path(api):
    tag = api.client.post("/tag/tags", json={"name": "gold"}).json()
    for path in (
        "/https://api.secoda.co/tag/tags",
        "/http://testserver/api/v1/tag/tags/",
    ):
        response = api.client.get(path, params={"page": 1})
        assert response.status_code == 200, path
        assert [t["id"] for t in response.json()["results"]] == [tag["id"]]
    links = api.client.get("/http://testserver/tag/tags").json()["links"]
    assert links["next"] is None
    assert api.client.get(f"/https://api.secoda.co/tag/tags/{tag['id']}").json()["name"] == "gold"


# ---- Kontent.ai: 10 a second and 400 a minute per environment, in the database or Redis ------

REDIS_URL = os.environ.get("CAIRN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
COUNTERS = ["database", "redis"]


def _kontent(api, counter: str, per_second: int = 10, per_minute: int = 400) -> RateLimiter:
    redis_url = REDIS_URL if counter == "redis" else None
    return kontent_limiter(api.store, per_second=per_second, per_minute=per_minute, redis_url=redis_url)


def _taken(limiter: RateLimiter, workspace_id: str, now: float) -> bool:
    try:
        limiter.hit(workspace_id, now=now)
    except RateLimited:
        return False
    return True


@pytest.mark.parametrize("counter", COUNTERS)
def test_kontent_windows_per_second_and_per_minute(api, counter):
    limiter = _kontent(api, counter)
    ws = api.workspace.id
    # the minute holding seconds 960..1019: ten a second, the eleventh waits for the next second
    assert [_taken(limiter, ws, 960.1) for _ in range(11)] == [True] * 10 + [False]
    with pytest.raises(RateLimited) as caught:
        limiter.hit(ws, now=960.6)
    assert caught.value.retry_after == 1
    # refusals by the second window took nothing from the minute: 40 full seconds fill it
    for second in range(961, 1000):
        assert all(_taken(limiter, ws, second + 0.5) for _ in range(10)), second
    with pytest.raises(RateLimited) as caught:
        limiter.hit(ws, now=1000.5)
    assert caught.value.retry_after == 20  # the minute window is full until 1020
    assert _taken(limiter, ws, 1020.0)
    # a workspace's limit is its own
    assert _taken(limiter, "00000000-0000-4000-8000-00000000beef", 1000.5)


@pytest.mark.parametrize("counter", COUNTERS)
def test_kontent_minute_window_refuses_with_the_seconds_left(api, counter):
    limiter = _kontent(api, counter, per_second=0, per_minute=5)
    ws = api.workspace.id
    assert [_taken(limiter, ws, 2000.0 + i) for i in range(6)] == [True] * 5 + [False]
    with pytest.raises(RateLimited) as caught:
        limiter.hit(ws, now=2005.0)
    assert caught.value.retry_after == 2040 - 2005


@pytest.mark.parametrize("counter", COUNTERS)
def test_kontent_limit_is_shared_by_limiters_and_never_overshoots(api, counter):
    limiters = [_kontent(api, counter), _kontent(api, counter)]
    ws = api.workspace.id
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda i: _taken(limiters[i % 2], ws, 3000.3), range(30)))
    assert sum(taken) == 10


def test_an_unreachable_redis_falls_back_to_the_database(api, caplog):
    limiter = kontent_limiter(api.store, per_second=2, per_minute=400, redis_url="redis://127.0.0.1:1/0")
    ws = api.workspace.id
    assert [_taken(limiter, ws, 4000.5) for _ in range(3)] == [True, True, False]
    assert "Redis unavailable" in caplog.text


@pytest.mark.parametrize("counter", COUNTERS)
def test_kontent_face_answers_429_in_its_own_error_format(api, counter, monkeypatch):
    from types import SimpleNamespace

    from cairn.core import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 5000.25))
    app = create_app(
        api.store,
        migrate=False,
        kontent_rate_limits=(2, 400),
        redis_url=REDIS_URL if counter == "redis" else None,
    )
    path = f"/v2/projects/{api.workspace.id}/collections"
    with TestClient(app) as client:
        client.headers.update(api.headers)
        ops = [{"op": "addInto", "value": {"name": f"c{i}"}} for i in range(3)]
        codes = [client.patch(path, json=[op]).status_code for op in ops]
        assert codes == [200, 200, 429]
        limited = client.patch(path, json=[{"op": "addInto", "value": {"name": "late"}}])
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        body = limited.json()
        assert body["error_code"] == 10000
        assert body["request_id"]
        assert "2 requests per second" in body["message"]
        assert body["validation_errors"] == [{"message": body["message"]}]
        # reads are never limited, and the Secoda face counts apart
        assert all(client.get(path).status_code == 200 for _ in range(5))
        assert client.post("/tag/tags", json={"name": "t"}).status_code == 201
        names = {c["name"] for c in client.get(path).json()["collections"]}
    assert {"c0", "c1"} <= names
    assert not names & {"c2", "late"}
