"""The UI end to end in real headless Chromium against a live server on loopback, both backends.

An editor signs in, finds a table, edits a column description inline, sees the edit in the
column's history, restores the older version and reorders collections (buttons and drag and
drop); a viewer sees the same pages without any edit control. Every page is saved as a
screenshot (desktop and phone width) under ``artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from cairn.core.demo import load_demo
from cairn.core.keys import create_key
from cairn.core.principal import Principal
from cairn.core.tenancy import WorkspaceRef
from cairn.store import Store
from tests.browser import DESKTOP, chromium, shoot_and_audit
from tests.live_server import live_server

__all__ = ["chromium"]  # the session fixture, re-exported for pytest

NEW_TEXT = "Where we email the customer; never exported."


@dataclass
class Site:
    base: str
    editor: str
    viewer: str
    admin: str
    backend: str


@pytest.fixture
def site(store: Store, admin: Principal, workspace: WorkspaceRef) -> Iterator[Site]:
    load_demo(store, admin)
    editor = create_key(store, workspace_id=workspace.id, name="Erin Editor", role="editor").token
    viewer = create_key(store, workspace_id=workspace.id, name="Vic Viewer", role="viewer").token
    boss = create_key(store, workspace_id=workspace.id, name="Ada Admin", role="admin").token
    with live_server(store) as base:
        yield Site(base, editor, viewer, boss, store.dialect)


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    ctx = chromium.new_context(viewport=DESKTOP, locale="en-US")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def sign_in(page: Page, site: Site, token: str, next_path: str = "/") -> None:
    page.goto(f"{site.base}/ui/signin?next={quote(next_path, safe='/')}")
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}{next_path}")


def test_editor_documents_a_table_and_restores_history(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(site.base + "/")
    expect(page).to_have_url(f"{site.base}/ui/signin?next=/")
    shoot_and_audit(page, f"{site.backend}-signin")
    sign_in(page, site, site.editor)
    expect(page.get_by_role("heading", name="Recently updated")).to_be_visible()
    shoot_and_audit(page, f"{site.backend}-home")

    # Search from the home page with a typo; tick a facet (no reload); open the table by keyboard.
    page.get_by_label("Search the catalog").fill("dim_custmer")
    page.keyboard.press("Enter")
    results = page.locator("#results .result-link")
    expect(results.first).to_have_text("dim_customer")
    expect(page.locator("#results-section")).to_contain_text("letter changed")
    expect(results.first.locator("mark").first).to_be_visible()
    page.evaluate("window.stillHere = true")
    page.locator("#facets").get_by_role("checkbox", name="table").check()
    expect(page).to_have_url(re.compile(r"entity_type=table"))
    expect(page.locator("#results .type").first).to_have_text("table")
    assert page.evaluate("window.stillHere === true"), "the facet reloaded the page"
    shoot_and_audit(page, f"{site.backend}-search")
    page.get_by_label("Search the catalog").focus()
    page.keyboard.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("dim_customer")
    grid = page.get_by_role("table", name="Columns of dim_customer")
    expect(grid.get_by_role("row", name="customer_id")).to_contain_text("PK")
    shoot_and_audit(page, f"{site.backend}-table")

    # Edit the email column's description in the grid, in place.
    row = grid.get_by_role("row", name="email")
    row.get_by_role("button", name="Edit description of email").click()
    editor = row.get_by_role("textbox", name="Description of email", exact=True)
    expect(editor).to_be_focused()
    editor.fill(NEW_TEXT)
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text(NEW_TEXT)
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(row.get_by_role("button", name="Edit description of email")).to_be_focused()

    # The column's history has the edit; restoring the version before it brings the old text back.
    row.get_by_role("link", name="email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("email")
    history = page.get_by_role("region", name="History")
    expect(history.locator("li").first).to_contain_text("Changed: description")
    expect(history.locator("li").first.locator("ins")).to_have_text(NEW_TEXT)
    expect(page.locator("#field-description-" + page.url.rsplit("/", 1)[-1])).to_contain_text(NEW_TEXT)
    shoot_and_audit(page, f"{site.backend}-column-history")
    history.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("status").filter(has_text="Restored version 1")).to_be_visible()
    column_id = page.url.split("?")[0].rsplit("/", 1)[-1]
    expect(page.locator(f"#field-description-{column_id}")).not_to_contain_text(NEW_TEXT)
    expect(page.get_by_role("region", name="History").locator("li").first).to_contain_text("restored")


def test_editor_reorders_collections_with_buttons_and_drag(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, site, site.editor, "/ui/collections")
    items = page.locator("#collections li.collection-item .item-title")
    before = items.all_inner_texts()
    assert before[:3] == ["Default", "Finance", "Marketing"], before
    page.get_by_role("button", name="Move Finance up").click()
    expect(items.first).to_have_text("Finance")
    expect(page.get_by_role("button", name="Move Finance up")).to_be_disabled()
    shoot_and_audit(page, f"{site.backend}-collections")
    # Drag Marketing onto the top half of the first item: it lands first.
    marketing = page.locator("#collections li.collection-item", has_text="Marketing")
    first = page.locator("#collections li.collection-item").first
    marketing.drag_to(first, target_position={"x": 20, "y": 4})
    expect(items.first).to_have_text("Marketing")
    page.reload()
    assert items.all_inner_texts()[:3] == ["Marketing", "Finance", "Default"]


def test_viewer_gets_the_pages_without_edit_controls(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, site, site.viewer, "/ui/catalog?type=table")
    page.get_by_role("link", name="dim_customer", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("dim_customer")
    expect(page.get_by_role("table", name="Columns of dim_customer")).to_contain_text("email")
    for name in ("Edit", "Save", "Restore"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.locator("form[method=post]")).to_have_count(1)  # signing out is all a viewer may post
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    shoot_and_audit(page, f"{site.backend}-table-viewer")
    page.goto(site.base + "/ui/collections")
    expect(page.locator("[draggable]")).to_have_count(0)
    expect(page.get_by_role("button", name="Move Finance up")).to_have_count(0)


def test_admin_tours_every_page_and_adds_search_results_to_a_collection(
    site: Site, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, site, site.admin, "/ui/search?q=stg&entity_type=table")
    results = page.locator("#results li")
    expect(results).to_have_count(2)
    for title in ("stg_orders", "stg_customers"):
        page.get_by_role("checkbox", name=f"Select {title}", exact=True).check()
    page.get_by_label("Collection", exact=True).select_option(label="Default")
    page.get_by_role("button", name="Add selected").click()
    expect(page.get_by_role("status").filter(has_text="Added 2 resources.")).to_be_visible()
    members = page.locator("#main .items .item-title")
    expect(members.filter(has_text="stg_customers")).to_have_count(1)
    shoot_and_audit(page, f"{site.backend}-collection")
    # Take one out again from the collection page.
    page.get_by_role("checkbox", name="Select stg_customers", exact=True).check()
    page.get_by_role("button", name="Remove selected from Default").click()
    expect(page.get_by_role("status").filter(has_text="Removed 1 resource.")).to_be_visible()
    expect(members.filter(has_text="stg_customers")).to_have_count(0)
    for path, heading in (
        ("/ui/glossary", "Glossary"),
        ("/ui/admin/keys", "API keys"),
        ("/ui/admin/users", "Users"),
        ("/ui/admin/teams", "Teams"),
        ("/ui/admin/integrations", "Integrations"),
        ("/ui/admin/runs", "Ingestion runs"),
    ):
        page.goto(site.base + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        shoot_and_audit(page, f"{site.backend}-{path.strip('/').replace('/', '-')}")
    page.goto(site.base + "/ui/admin/keys")
    page.get_by_label("Name").fill("Nightly loader")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("New viewer key")).to_have_value(re.compile(r"^cairn_"))


def test_viewer_follows_lineage_two_hops_in_the_graph(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, site, site.viewer, "/ui/search?q=stg_orders&entity_type=table")
    page.locator("#results .result-link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("stg_orders")
    page.get_by_role("link", name="Lineage", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lineage of stg_orders")
    graph = page.locator(".lineage-canvas svg")
    expect(graph.locator("a.node")).to_have_count(7)  # orders <- stg_orders -> fct_orders -> 4 more
    shoot_and_audit(page, f"{site.backend}-lineage")
    # Hop 1: the graph's node for fct_orders; hop 2: the dashboard it feeds.
    graph.get_by_role("link", name=re.compile(r"^fct_orders, table, 1 downstream")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lineage of fct_orders")
    graph.get_by_role("link", name=re.compile(r"^Revenue overview, dashboard, 1 downstream")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lineage of Revenue overview")
    # The controls redraw in place: upstream only, one hop. The first change's answer is held
    # back so that it comes after the second's: it must not redraw over it.
    page.evaluate(
        """() => {
        window.stillHere = true;
        const realFetch = window.fetch;
        window.fetch = (url, options) => String(url).includes("depth=2")
          ? new Promise((resolve) => setTimeout(() => resolve(realFetch(url, options)), 600))
          : realFetch(url, options);
    }"""
    )
    page.get_by_label("Direction").select_option("upstream")
    page.get_by_label("Depth (hops)").fill("1")
    page.get_by_label("Depth (hops)").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"direction=upstream&depth=1"))
    expect(graph.locator("a.node")).to_have_count(3)  # the dashboard and its two sources
    page.wait_for_timeout(1000)  # past the held-back answer
    expect(page).to_have_url(re.compile(r"direction=upstream&depth=1"))
    expect(graph.locator("a.node")).to_have_count(3)
    expect(page.locator(".lineage-list summary")).to_have_text("Nodes as a list (3)")
    assert page.evaluate("window.stillHere === true")
    shoot_and_audit(page, f"{site.backend}-lineage-upstream")
