"""The web UI through a TestClient, on both backends: sessions, CSRF, visibility, inline edits."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from cairn.api.app import create_app
from cairn.core import filters as flt
from cairn.core.demo import load_demo
from cairn.core.keys import create_key, list_keys, revoke_key
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.core.tenancy import WorkspaceRef
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.web.session import COOKIE_NAME

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A TestClient that keeps cookies like a browser and knows its page's CSRF token."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, follow_redirects=False, base_url="http://testserver")
        self.csrf = ""
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text) or FORM_CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, *, htmx: bool = False, **kw: Any) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        headers.update(kw.pop("headers", {}))
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(path, data=body, headers=headers, **kw)

    def sign_in(self, token: str) -> Any:
        self.token = token
        self.get("/ui/signin")
        response = self.post("/ui/signin", {"api_key": token, "next": "/ui"})
        assert response.status_code == 303, response.text
        self.get("/ui")
        return response


@pytest.fixture
def demo(store: Store, admin: Principal) -> ResourceService:
    load_demo(store, admin)
    return ResourceService(store)


@pytest.fixture
def app(store: Store, demo: ResourceService) -> FastAPI:
    return create_app(store, migrate=False)


@pytest.fixture
def browser(app: FastAPI, store: Store, workspace: WorkspaceRef) -> Callable[[str], Browser]:
    def make(role: str) -> Browser:
        key = create_key(store, workspace_id=workspace.id, name=f"{role} person", role=role)
        b = Browser(app)
        b.sign_in(key.token)
        return b

    return make


def find(resources: ResourceService, admin: Principal, title: str, kind: str = "table") -> dict[str, Any]:
    node = flt.parse_filter(
        {
            "operator": "and",
            "operands": [
                {"operator": "exact", "field": "title", "value": title},
                {"operator": "exact", "field": "entity_type", "value": kind},
            ],
        }
    )
    items = resources.list(admin, filter_node=node).items
    assert items, title
    return items[0]


def test_root_and_pages_send_anonymous_visitors_to_sign_in(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    assert client.get("/").headers["location"] == "/ui/signin?next=/"
    for path in (
        "/ui",
        "/ui/catalog?q=x",
        "/ui/glossary",
        "/ui/admin/keys",
        "/ui/collections",
        "/api/v1/ui/",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/signin?next=/ui")
    # The API keeps its own JSON errors beside the UI.
    assert client.get("/resource/catalog").json()["detail"]


def test_root_serves_the_home_page_itself_and_the_api_keeps_its_routes(
    browser: Callable[[str], Browser],
) -> None:
    b = browser("viewer")
    root = b.get("/")
    assert root.status_code == 200
    assert 'id="home-q"' in root.text
    assert 'href="/ui" aria-current="page"' in root.text
    popular = root.text.split('id="popular-h"')[1].split("</section>")[0]
    assert popular.index("dim_customer") < popular.index("stg_orders")  # most used first
    assert b.client.get("/resource/catalog").status_code == 401  # the API wants a key, not a cookie
    headers = {"Authorization": f"Bearer {b.token}"}
    assert b.client.get("/resource/catalog", headers=headers).json()["count"] > 0
    assert b.client.get("/api/v1/resource/catalog", headers=headers).status_code == 200
    anonymous = Browser(b.client.app)  # type: ignore[arg-type]
    anonymous.get("/ui/signin?next=/")
    signed = anonymous.post("/ui/signin", {"api_key": b.token, "next": "/"})
    assert signed.headers["location"] == "/"


def test_sign_in_cookie_is_httponly_lax_and_never_holds_the_key(
    app: FastAPI, store: Store, workspace: WorkspaceRef
) -> None:
    key = create_key(store, workspace_id=workspace.id, name="someone", role="editor")
    b = Browser(app)
    page = b.get("/ui/signin")
    assert page.status_code == 200
    assert 'type="password"' in page.text
    assert 'for="api-key"' in page.text
    response = b.post("/ui/signin", {"api_key": key.token, "next": "/ui/glossary"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/glossary"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(COOKIE_NAME + "=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert key.token not in cookie
    assert key.token[6:20] not in cookie
    home = b.get("/ui")
    assert home.status_code == 200
    assert key.token not in home.text
    assert "someone" in home.text
    assert "editor" in home.text
    # A foreign "next" never leaves the UI.
    b2 = Browser(app)
    b2.get("/ui/signin")
    assert (
        b2.post("/ui/signin", {"api_key": key.token, "next": "//evil.example/ui"}).headers["location"]
        == "/ui"
    )


def test_bad_keys_are_refused_and_sign_in_needs_its_csrf_token(app: FastAPI) -> None:
    b = Browser(app)
    b.get("/ui/signin")
    response = b.post("/ui/signin", {"api_key": "cairn_not-a-key"})
    assert response.status_code == 400
    assert "Invalid API key." in response.text
    assert b.get("/ui").status_code == 303
    b.csrf = "0" * 64
    refused = b.post("/ui/signin", {"api_key": "cairn_not-a-key"})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]


def test_writes_without_a_valid_csrf_token_or_from_another_origin_change_nothing(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal, app: FastAPI
) -> None:
    editor = browser("editor")
    table = find(demo, admin, "fct_orders")
    path = f"/ui/resource/{table['id']}/field/description"
    stolen = editor.csrf
    editor.csrf = ""
    assert editor.post(path, {"value": "no token"}).status_code == 403
    editor.csrf = "f" * 64
    assert editor.post(path, {"value": "wrong token"}, htmx=True).status_code == 403
    editor.csrf = stolen
    other = editor.post(path, {"value": "cross site"}, headers={"Origin": "http://evil.example"})
    assert other.status_code == 403
    # A token is bound to its session: another visitor's page token does not work here.
    stranger = browser("editor")
    stranger.csrf = stolen
    assert stranger.post(path, {"value": "borrowed token"}).status_code == 403
    assert demo.get(admin, table["id"])["description"] == table["description"]


def test_editor_edits_a_column_description_inline_and_history_records_it(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    editor = browser("editor")
    table = find(demo, admin, "dim_customer")
    page = editor.get(f"/ui/resource/{table['id']}")
    assert page.status_code == 200
    assert "Columns" in page.text
    assert "lifetime_value" in page.text
    column = find(demo, admin, "email", "column")
    form = editor.get(f"/ui/resource/{column['id']}/field/description?edit=true&variant=cell")
    assert form.status_code == 200
    etag = re.search(r'name="etag" value="([^"]+)"', form.text)
    assert etag
    saved = editor.post(
        f"/ui/resource/{column['id']}/field/description",
        {"value": "Contact address; **PII**.", "etag": html.unescape(etag.group(1)), "variant": "cell"},
        htmx=True,
    )
    assert saved.status_code == 200, saved.text
    assert "<strong>PII</strong>" in saved.text
    assert "Saved" in saved.text
    assert demo.get(admin, column["id"])["description"] == "Contact address; **PII**."
    history = demo.history(admin, column["id"], PageRequest())
    assert history.items[0]["changes"]["description"]["new"] == "Contact address; **PII**."
    # The same etag again is stale now: the second save is refused and keeps the text typed.
    stale = editor.post(
        f"/ui/resource/{column['id']}/field/description",
        {"value": "Overwrite", "etag": html.unescape(etag.group(1)), "variant": "cell"},
        htmx=True,
    )
    assert stale.status_code == 400
    assert "Someone changed this resource" in stale.text
    assert "Overwrite" in stale.text
    assert demo.get(admin, column["id"])["description"] == "Contact address; **PII**."
    # Without htmx the same form posts and redirects back (it works without JavaScript).
    plain = editor.post(f"/ui/resource/{table['id']}/field/definition", {"value": "# Customers"})
    assert plain.status_code == 303
    assert demo.get(admin, table["id"])["definition"] == "# Customers"


def test_flags_toggle_and_restore_brings_back_a_version(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    editor = browser("editor")
    table = find(demo, admin, "fct_payments")
    editor.get(f"/ui/resource/{table['id']}")
    toggled = editor.post(f"/ui/resource/{table['id']}/flag/pii", {"value": "true"}, htmx=True)
    assert toggled.status_code == 200
    assert 'aria-pressed="true"' in toggled.text
    assert demo.get(admin, table["id"])["pii"] is True
    assert editor.post(f"/ui/resource/{table['id']}/flag/owner", {"value": "true"}).status_code == 404
    assert editor.post(f"/ui/resource/{table['id']}/flag/pii", {"value": "maybe"}).status_code == 400
    editor.post(f"/ui/resource/{table['id']}/field/description", {"value": "Rewritten"})
    page = editor.get(f"/ui/resource/{table['id']}")
    versions = [int(v) for v in re.findall(r'/restore/(\d+)"', page.text)]
    assert versions, "older versions offer a restore button"
    first = min(versions)
    restored = editor.post(f"/ui/resource/{table['id']}/restore/{first}")
    assert restored.status_code == 303
    after = demo.get(admin, table["id"])
    assert after["description"] == table["description"]
    assert after["pii"] is False


def test_viewer_sees_no_edit_controls_no_drafts_and_cannot_write(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    table = find(demo, admin, "stg_orders")
    draft = demo.create(
        admin, ResourceWrite(entity_type="document", title="Secret plan zz9", published=False)
    )
    viewer = browser("viewer")
    page = viewer.get(f"/ui/resource/{table['id']}")
    assert page.status_code == 200
    for control in ("edit-button", "/flag/", "/restore/", "hx-post", 'method="post" action="/ui/resource'):
        assert control not in page.text, control
    assert "Admin" not in page.text
    found = viewer.get("/ui/search", params={"q": "zz9"})
    assert "Secret plan" not in found.text
    assert "0 results" in found.text
    assert "Secret plan" not in viewer.get("/ui/catalog", params={"type": "document"}).text
    assert viewer.get(f"/ui/resource/{draft['id']}").status_code == 404
    home = viewer.get("/ui")
    assert "Secret plan" not in home.text
    path = f"/ui/resource/{table['id']}/field/description"
    assert viewer.get(path + "?edit=true").status_code == 403
    assert viewer.post(path, {"value": "vandalised"}).status_code == 403
    assert viewer.post(f"/ui/resource/{table['id']}/flag/verified", {"value": "true"}).status_code == 403
    assert viewer.get("/ui/admin/keys").status_code == 403
    assert demo.get(admin, table["id"])["description"] == table["description"]
    # An editor does see the draft, and the controls.
    editor = browser("editor")
    assert "Secret plan" in editor.get("/ui/search", params={"q": "zz9"}).text
    recent = editor.get("/ui").text.split('id="recent-h"')[1].split("</section>")[0]
    assert "Secret plan zz9" in recent  # the newest change, first
    assert "Secret plan" in editor.get("/ui/catalog", params={"type": "document"}).text
    assert "edit-button" in editor.get(f"/ui/resource/{table['id']}").text


def test_catalog_browses_a_type_most_used_first_and_answers_htmx_with_a_fragment(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    b = browser("viewer")
    full = b.get("/ui/catalog")
    assert full.status_code == 200
    assert "<html" in full.text
    titles = re.findall(r'class="item-title result-link" href="[^"]+">([^<]+)<', full.text)
    usage = {t: find(demo, admin, t)["external_usage"] for t in titles}
    assert len(titles) == 7
    assert titles == sorted(titles, key=lambda t: -usage[t])
    assert "7 tables" in full.text
    fragment = b.get("/ui/catalog", params={"type": "glossary"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert 'value="glossary" checked' in fragment.text
    terms = re.findall(r'class="item-title result-link" href="[^"]+">([^<]+)<', fragment.text)
    assert set(terms) == {"Customer", "Lifetime value", "Active customer"}
    assert fragment.headers["vary"] == "Cookie, HX-Request"
    for params in ({"type": "nonsense"}, {"type": "column"}, {"page": 0}, {"page": 41}):
        assert b.get("/ui/catalog", params=params).status_code == 400, params
    assert b.get("/ui/catalog", params={"page": 40}).status_code == 200  # past the end: the first page


def test_markdown_is_rendered_without_running_anything(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    table = find(demo, admin, "orders")
    demo.update(
        admin,
        table["id"],
        ResourceWrite(
            description='<script>alert(1)</script> <img src=x onerror="alert(2)">',
            definition="[click](javascript:alert(3)) and [docs](https://example.com)\n\n| a |\n|---|\n| 1 |",
        ),
    )
    page = browser("viewer").get(f"/ui/resource/{table['id']}")
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'href="javascript' not in page.text
    assert 'href="https://example.com" rel="nofollow noopener noreferrer"' in page.text
    assert "<table>" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_revoking_a_key_ends_its_browser_sessions(
    browser: Callable[[str], Browser], store: Store, workspace: WorkspaceRef
) -> None:
    b = browser("editor")
    assert b.get("/ui").status_code == 200
    for entry in list_keys(store, workspace_id=workspace.id):
        if entry["name"] == "editor person":
            revoke_key(store, workspace_id=workspace.id, key_id=str(entry["id"]))
    response = b.get("/ui")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/signin")


def test_admin_creates_shows_once_and_revokes_keys(browser: Callable[[str], Browser]) -> None:
    admin_b = browser("admin")
    page = admin_b.get("/ui/admin/keys")
    assert page.status_code == 200
    assert "Create a key" in page.text
    created = admin_b.post("/ui/admin/keys", {"name": "ci robot", "role": "viewer"})
    assert created.status_code == 200
    token = re.search(r'value="(cairn_[^"]+)"', created.text)
    assert token, "the new token is shown once"
    listing = admin_b.get("/ui/admin/keys")
    assert "ci robot" in listing.text
    assert token.group(1) not in listing.text
    assert admin_b.post("/ui/admin/keys", {"name": " ", "role": "viewer"}).status_code == 400
    assert admin_b.post("/ui/admin/keys", {"name": "x", "role": "root"}).status_code == 400
    key_id = re.search(
        r'/ui/admin/keys/([0-9a-f-]{36})/revoke"[^<]*<input[^>]*>\s*<button[^>]*Revoke key ci robot',
        listing.text,
    )
    assert key_id
    assert admin_b.post(f"/ui/admin/keys/{key_id.group(1)}/revoke").status_code == 303
    robot = Browser(admin_b.client.app)  # type: ignore[arg-type]
    robot.get("/ui/signin")
    assert robot.post("/ui/signin", {"api_key": token.group(1)}).status_code == 400
    assert browser("editor").get("/ui/admin/keys").status_code == 403


def test_collections_are_listed_in_workspace_order_and_reordered(browser: Callable[[str], Browser]) -> None:
    editor = browser("editor")
    page = editor.get("/ui/collections")
    names = re.findall(r'class="item-title" href="/ui/collections/[^"]+">([^<]+)<', page.text)
    assert "Finance" in names
    assert "Marketing" in names
    ids = re.findall(r'data-id="([0-9a-f-]{36})"', page.text)
    moved = editor.post(f"/ui/collections/{ids[0]}/move", {"direction": "down"}, htmx=True)
    assert moved.status_code == 200
    assert "<html" not in moved.text
    after = re.findall(r'data-id="([0-9a-f-]{36})"', moved.text)
    assert after[:2] == [ids[1], ids[0]]
    dropped = editor.post(f"/ui/collections/{ids[0]}/move", {"before": ids[1]}, htmx=True)
    assert re.findall(r'data-id="([0-9a-f-]{36})"', dropped.text) == ids
    bad = editor.post(f"/ui/collections/{ids[0]}/move", {"before": ids[0]}, htmx=True)
    assert bad.status_code == 400
    assert 'role="alert"' in bad.text
    viewer = browser("viewer")
    assert "draggable" not in viewer.get("/ui/collections").text
    assert viewer.post(f"/ui/collections/{ids[0]}/move", {"direction": "down"}).status_code == 403


def test_static_assets_are_versioned_compressed_and_contained(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    state = app.state.web
    url = state.assets.url("htmx.min.js")
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "immutable" in response.headers["cache-control"]
    assert response.text.startswith("var htmx=")
    assert client.get("/ui/static/htmx.min.js").headers["cache-control"] == "no-cache"
    for name in ("nope.js", "..%2F__init__.py", "session.py"):
        assert client.get(f"/ui/static/{name}").status_code == 404
    assert {"app.css", "app.js", "htmx.min.js"} <= set(state.assets.names())


def test_unknown_ui_paths_and_bad_ids_are_html_404s(browser: Callable[[str], Browser]) -> None:
    b = browser("viewer")
    for path in ("/ui/resource/not-a-uuid", "/ui/resource/00000000-0000-0000-0000-00000000dead", "/ui/nope"):
        response = b.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert "Not found" in response.text
    fragment = b.client.get("/ui/resource/not-a-uuid", headers={"HX-Request": "true"})
    assert fragment.headers["hx-retarget"] == "#flash"


def test_collection_page_lists_members_and_editors_add_and_remove_in_bulk(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    finance = find(demo, admin, "Finance", "collection")
    editor = browser("editor")
    page = editor.get(f"/ui/collections/{finance['id']}")
    assert page.status_code == 200
    assert "fct_orders" in page.text
    assert "Revenue overview" in page.text
    results = editor.get("/ui/search", params={"q": "customer", "collection": finance["id"]})
    assert 'id="bulk-form"' in results.text
    assert f'<option value="{finance["id"]}" selected>' in results.text
    dim = find(demo, admin, "dim_customer")
    stg = find(demo, admin, "stg_customers")
    added = editor.post(
        "/ui/collections/members",
        {"collection": finance["id"], "action": "add", "resource": [dim["id"], stg["id"]]},  # type: ignore[dict-item]
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/ui/collections/{finance['id']}?added=2"
    assert finance["id"] in demo.get(admin, dim["id"])["collections"]
    assert "Added 2 resources." in editor.get(added.headers["location"]).text
    # Adding again changes nothing; each real change is a version in the member's history.
    again = editor.post(
        "/ui/collections/members", {"collection": finance["id"], "action": "add", "resource": dim["id"]}
    )
    assert again.headers["location"].endswith("?added=0")
    history = demo.history(admin, dim["id"], PageRequest())
    assert history.items[0]["changes"]["collections"]["new"] == [*dim["collections"], finance["id"]]
    removed = editor.post(
        "/ui/collections/members", {"collection": finance["id"], "action": "remove", "resource": stg["id"]}
    )
    assert removed.headers["location"].endswith("?removed=1")
    assert demo.get(admin, stg["id"])["collections"] == stg["collections"]
    # Bad input is a 400 naming the problem and changes nothing.
    before = demo.get(admin, dim["id"])["collections"]
    for data, message in (
        ({"collection": finance["id"], "action": "add"}, "choose at least one resource"),
        ({"collection": finance["id"], "action": "merge", "resource": dim["id"]}, "action must be"),
        ({"collection": finance["id"], "action": "remove", "resource": [dim["id"], "nope"]}, "nope does not"),
        ({"collection": finance["id"], "action": "add", "resource": finance["id"]}, "member of itself"),
    ):
        response = editor.post("/ui/collections/members", data)  # type: ignore[arg-type]
        assert response.status_code == 400, data
        assert message in html.unescape(response.text)
    assert (
        editor.post(
            "/ui/collections/members", {"collection": "nope", "action": "add", "resource": dim["id"]}
        ).status_code
        == 404
    )
    assert demo.get(admin, dim["id"])["collections"] == before
    viewer = browser("viewer")
    view = viewer.get(f"/ui/collections/{finance['id']}")
    assert view.status_code == 200
    assert 'type="checkbox"' not in view.text
    assert "bulk-form" not in viewer.get("/ui/search", params={"q": "customer"}).text
    assert "bulk-form" not in viewer.get("/ui/catalog").text
    refused = viewer.post(
        "/ui/collections/members", {"collection": finance["id"], "action": "remove", "resource": dim["id"]}
    )
    assert refused.status_code == 403
    assert finance["id"] in demo.get(admin, dim["id"])["collections"]


def test_admin_pages_list_and_create_users_and_teams_and_show_integrations(
    browser: Callable[[str], Browser], store: Store, admin: Principal
) -> None:
    from cairn.core.integrations import IntegrationService
    from cairn.models.integrations import IntegrationCreate

    IntegrationService(store).create(
        admin,
        IntegrationCreate(name="Lake", type="postgres", credentials={"host": "db", "password": "hunter2"}),
    )
    a = browser("admin")
    for tab in ("keys", "users", "teams", "integrations"):
        page = a.get(f"/ui/admin/{tab}")
        assert page.status_code == 200, tab
        assert f'href="/ui/admin/{tab}" aria-current="page"' in page.text
    integrations = a.get("/ui/admin/integrations").text
    assert "Lake" in integrations
    assert "Warehouse" in integrations
    assert "hunter2" not in integrations
    assert "password=********" in integrations
    created = a.post("/ui/admin/users", {"email": "ada@example.com", "first_name": "Ada", "role": "editor"})
    assert created.status_code == 303
    users = a.get("/ui/admin/users").text
    assert "ada@example.com" in users
    assert "<td>editor</td>" in users
    bad = a.post("/ui/admin/users", {"email": "not-an-email", "role": "editor"})
    assert bad.status_code == 400
    assert "not a valid email address" in html.unescape(bad.text)
    assert a.post("/ui/admin/users", {"email": "b@example.com", "role": "boss"}).status_code == 400
    assert a.post("/ui/admin/teams", {"name": "Data platform"}).status_code == 303
    assert "Data platform" in a.get("/ui/admin/teams").text
    assert a.post("/ui/admin/teams", {"name": " "}).status_code == 400
    assert a.get("/ui/admin/users", params={"page": 99}).status_code == 200
    assert a.get("/ui/admin/users", params={"page": 0}).status_code == 400
    editor = browser("editor")
    for tab in ("keys", "users", "teams", "integrations"):
        assert editor.get(f"/ui/admin/{tab}").status_code == 403, tab
    assert editor.post("/ui/admin/teams", {"name": "Sneaky"}).status_code == 403
    assert "Sneaky" not in a.get("/ui/admin/teams").text


def test_resource_page_names_tags_owners_teams_and_shows_properties_and_keys(
    browser: Callable[[str], Browser], store: Store, demo: ResourceService, admin: Principal
) -> None:
    from cairn.core.custom_properties import CustomPropertyService
    from cairn.core.people import TeamService, UserService
    from cairn.core.tags import TagService
    from cairn.models.custom_properties import CustomPropertyValueWrite, CustomPropertyWrite
    from cairn.models.people import TeamWrite, UserWrite
    from cairn.models.tags import TagWrite

    tag = TagService(store).create(admin, TagWrite(name="Tier 1"))
    owner = UserService(store).create(admin, UserWrite(email="ada@example.com", first_name="Ada"))[0]
    squad = TeamService(store).create(admin, TeamWrite(name="Growth squad"))
    prop = CustomPropertyService(store).create(
        admin, CustomPropertyWrite(name="SLA hours", value_type="number")
    )
    table = find(demo, admin, "fct_orders")
    demo.update(
        admin, table["id"], ResourceWrite(tags=[tag["id"]], owners=[owner["id"]], teams=[squad["id"]])
    )
    CustomPropertyService(store).set_value(admin, prop["id"], table["id"], CustomPropertyValueWrite(value=6))
    page = browser("viewer").get(f"/ui/resource/{table['id']}")
    assert page.status_code == 200
    for shown in ("Tier 1", "Ada", "Growth squad", "SLA hours", "<dd>6</dd>", "Published", "Verified"):
        assert shown in page.text, shown
    for hidden in (tag["id"], owner["id"], squad["id"]):
        assert hidden not in page.text
    # The columns grid: types, the primary key, a foreign key with its target.
    assert "numeric(12,2)" in page.text
    assert 'title="Primary key">PK' in page.text
    assert "dim_customer.customer_id" in page.text


def test_search_page_ranks_highlights_filters_and_forgives_a_typo(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal
) -> None:
    b = browser("viewer")
    page = b.get("/ui/search", params={"q": "custmer"})
    assert page.status_code == 200
    assert "<html" in page.text
    assert "letter changed" in page.text  # the one-typo fallback says so
    titles = re.findall(r'class="item-title result-link" href="/ui/resource/[^"]+">(.+?)</a>', page.text)
    assert titles, page.text
    assert "<mark>" in page.text
    assert any("dim_" in t for t in titles)
    exact = b.get("/ui/search", params={"q": "dim_customer"})
    first = re.search(r'class="item-title result-link" href="/ui/resource/[^"]+">(.+?)</a>', exact.text)
    assert first
    assert re.sub("<[^>]+>", "", first.group(1)) == "dim_customer"
    # Facets: ticking a type narrows the results; htmx gets the fragment only.
    fragment = b.get(
        "/ui/search", params={"q": "customer", "entity_type": "column"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text
    assert 'name="entity_type" value="column" checked' in fragment.text
    kinds = re.findall(r'<span class="type">([^<]+)</span>', fragment.text.split('id="results"')[1])
    assert kinds
    assert set(kinds) == {"column"}
    # Stored text is escaped inside the highlights; drafts never reach a viewer.
    demo.create(admin, ResourceWrite(entity_type="document", title="<b>customer</b> secret", published=False))
    hidden = b.get("/ui/search", params={"q": "secret"})
    assert "secret" not in hidden.text.split('id="results-section"')[1].split("</h2>", 1)[1]
    editor = browser("editor")
    shown = editor.get("/ui/search", params={"q": "secret"})
    assert "&lt;b&gt;" in shown.text
    assert "<b>customer" not in shown.text
    assert 'id="bulk-form"' in shown.text
    assert b.get("/ui/search", params={"q": "x" * 257}).status_code == 400
    assert b.get("/ui/search", params={"q": "order", "page": 999}).status_code == 200
    assert b.get("/ui/search").status_code == 200


def test_lineage_page_embeds_the_graph_lists_nodes_and_hides_what_a_viewer_may_not_see(
    browser: Callable[[str], Browser], demo: ResourceService, admin: Principal, store: Store
) -> None:
    from cairn.core.lineage import EdgeSpec, LineageService

    orders = find(demo, admin, "fct_orders")
    secret = demo.create(
        admin,
        ResourceWrite(
            entity_type="table", title="</script><b>zz_secret_mart", parent=orders["parent"], published=False
        ),
    )
    LineageService(store).add_edges(admin, [EdgeSpec(orders["id"], secret["id"], "manual")])
    viewer = browser("viewer")
    page = viewer.get(f"/ui/lineage/{orders['id']}")
    assert page.status_code == 200
    data = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page.text, re.S)
    assert data
    graph = json.loads(data.group(1))
    titles = {n["title"] for n in graph["nodes"]}
    assert {"fct_orders", "stg_orders", "orders", "Revenue overview", "fct_payments"} <= titles
    assert graph["root"] == orders["id"]
    assert "zz_secret_mart" not in page.text
    assert secret["id"] not in page.text
    assert 'href="/ui/lineage/' in page.text  # the list of nodes links onwards
    editor = browser("editor")
    seen = editor.get(f"/ui/lineage/{orders['id']}")
    assert "zz_secret_mart" in seen.text
    assert "</script><b>" not in seen.text  # the title cannot close the data block
    # The JSON endpoint the controls use: same graph, other parameters, 400 on bad ones.
    upstream = editor.get(f"/ui/lineage/{orders['id']}/graph", params={"direction": "upstream", "depth": 1})
    assert upstream.status_code == 200
    assert {n["title"] for n in upstream.json()["nodes"]} == {"fct_orders", "stg_orders"}
    columns = editor.get(
        f"/ui/lineage/{find(demo, admin, 'order_id', 'column')['id']}/graph", params={"level": "column"}
    )
    assert columns.status_code == 200
    for params in ({"direction": "sideways"}, {"depth": 0}, {"level": "row"}):
        assert editor.get(f"/ui/lineage/{orders['id']}/graph", params=params).status_code == 400, params
    assert viewer.get(f"/ui/lineage/{secret['id']}").status_code == 404
    assert viewer.get(f"/ui/lineage/{secret['id']}/graph").status_code == 404


def test_search_page_says_when_the_count_is_a_lower_bound(
    browser: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.core import search as core_search

    b = browser("viewer")
    counted = re.search(r'id="results-h"[^>]*>([^<]+)<', b.get("/ui/search", params={"q": "customer"}).text)
    assert counted
    assert "+" not in counted.group(1)
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 2)
    bounded = re.search(r'id="results-h"[^>]*>([^<]+)<', b.get("/ui/search", params={"q": "customer"}).text)
    assert bounded
    assert bounded.group(1).startswith("2+ results for")
