"""Relevance: a synthetic catalog with known best answers for 30 queries.

For each query, ``relevant`` lists the titles a user would expect at the top. Measured per query:
precision@5 = distinct relevant titles among the first five / min(5, number of relevant titles), and the
reciprocal rank of the first relevant result. The means must stay at or above the thresholds on
both backends (measured when written: precision@5 1.0 and MRR 1.0 on SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from cairn.core.exchange import Importer
from cairn.core.principal import Principal
from cairn.core.search import SearchService
from cairn.models.search import SearchQuery
from cairn.store import Store

MIN_PRECISION_AT_5 = 0.9
MIN_MRR = 0.95

# (schema, table, usage, verified, description, columns)
TABLES: list[tuple[str, str, int, bool, str | None, list[str]]] = [
    (
        "marts",
        "dim_customer",
        5000,
        True,
        "One row per customer with contact details and segment.",
        ["customer_id", "email", "first_name", "last_name", "segment", "created_at"],
    ),
    ("marts", "dim_customer_address", 300, False, None, ["customer_id", "street", "city", "country"]),
    (
        "marts",
        "fct_orders",
        8000,
        True,
        "One row per order.",
        ["order_id", "customer_id", "order_date", "amount"],
    ),
    ("marts", "fct_order_items", 1200, False, None, ["order_id", "product_id", "quantity", "price"]),
    ("marts", "dim_product", 2500, False, "Product catalog.", ["product_id", "name", "category", "price"]),
    (
        "marts",
        "fct_payments",
        900,
        False,
        "Payments captured by the billing system.",
        ["payment_id", "order_id", "amount", "method"],
    ),
    (
        "marts",
        "customer_lifetime_value",
        700,
        False,
        "Predicted lifetime value per customer.",
        ["customer_id", "ltv"],
    ),
    ("marts", "monthly_revenue", 1500, False, "Revenue by month and region.", ["month", "region", "revenue"]),
    ("marts", "churn_predictions", 200, False, None, ["customer_id", "churn_probability"]),
    ("marts", "dim_date", 4000, False, None, ["date_day", "month", "year"]),
    ("marts", "fct_sessions", 600, False, None, ["session_id", "customer_id", "device", "started_at"]),
    ("marts", "marketing_campaigns", 150, False, "Campaign spend and attribution.", ["campaign_id", "spend"]),
    ("marts", "invoiceLineItems", 80, False, None, ["invoice_id", "line_number", "amount"]),
    ("marts", "accountBalances", 60, False, None, ["account_id", "balance"]),
    ("staging", "stg_customers", 100, False, None, ["customer_id", "email"]),
    ("staging", "stg_orders", 100, False, None, ["order_id", "customer_id"]),
    ("staging", "stg_payments", 50, False, None, ["payment_id", "amount"]),
    ("staging", "stg_sessions", 20, False, None, ["session_id"]),
    ("raw", "raw_customers", 10, False, None, ["id", "email"]),
    ("raw", "raw_orders", 10, False, None, ["id", "amount"]),
    ("raw", "raw_events", 30, False, None, ["event_id", "payload"]),
    ("raw", "raw_web_pageviews", 5, False, None, ["url", "viewed_at"]),
]
DASHBOARDS = {
    "Customer Health Overview": (400, ["Active customers", "Churn by segment"]),
    "Revenue Dashboard": (900, ["Monthly revenue by region", "Revenue vs target"]),
    "Marketing Performance": (100, ["Campaign ROI"]),
}
GLOSSARY = {
    "Customer": "A person or company that has purchased at least once.",
    "Churn Rate": "Share of customers who cancel in a period.",
    "Annual Recurring Revenue": "Yearly value of subscriptions.",
    "Lifetime Value": "Total revenue expected from a customer.",
    "Active Customer": "A customer with an order in the last 90 days.",
}
DOCUMENTS = {
    "Analyst onboarding guide": "How to find tables in the warehouse.",
    "Data quality runbook": "What to do when payments tests fail.",
}

QUERIES: list[tuple[str, set[str]]] = [
    ("dim_customer", {"dim_customer", "dim_customer_address"}),
    (
        "customer",
        {"Customer", "dim_customer", "dim_customer_address", "stg_customers", "raw_customers"}
        | {"customer_lifetime_value", "Customer Health Overview", "Active Customer"},
    ),
    (
        "custmer",
        {"Customer", "dim_customer", "dim_customer_address", "customer_lifetime_value"}
        | {"Customer Health Overview", "Active Customer", "churn_predictions"},
    ),
    ("orders", {"fct_orders", "stg_orders", "raw_orders"}),
    ("fct orders", {"fct_orders"}),
    ("payments", {"fct_payments", "stg_payments", "Data quality runbook"}),
    (
        "revenue",
        {"monthly_revenue", "Revenue Dashboard", "Annual Recurring Revenue"}
        | {"Monthly revenue by region", "Revenue vs target"},
    ),
    ("monthly revenue", {"monthly_revenue", "Monthly revenue by region"}),
    ("churn", {"churn_predictions", "Churn Rate", "Churn by segment"}),
    ("lifetime value", {"customer_lifetime_value", "Lifetime Value"}),
    ("ltv", {"ltv"}),
    ("invoice line items", {"invoiceLineItems"}),
    ("account balances", {"accountBalances"}),
    ("sessions", {"fct_sessions", "stg_sessions"}),
    ("campaign", {"marketing_campaigns", "Campaign ROI"}),
    ("marketing", {"marketing_campaigns", "Marketing Performance"}),
    ("product", {"dim_product"}),
    ("analytics.marts.dim_customer", {"dim_customer"}),
    ("marts.fct_orders", {"fct_orders"}),
    ("email", {"email"}),
    ("onboarding", {"Analyst onboarding guide"}),
    ("runbook", {"Data quality runbook"}),
    ("dimCustomer", {"dim_customer", "dim_customer_address"}),
    ("raw events", {"raw_events"}),
    ("pageviews", {"raw_web_pageviews"}),
    ("active customers", {"Active customers"}),
    ("stg_payments", {"stg_payments"}),
    ("paymnts", {"fct_payments", "stg_payments"}),
    (
        "revnue",
        {"monthly_revenue", "Revenue Dashboard", "Annual Recurring Revenue"}
        | {"Monthly revenue by region", "Revenue vs target"},
    ),
    ("customer health", {"Customer Health Overview"}),
]


def _lines() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []

    def add(entity_type: str, title: str, parent: str | None = None, **extra: Any) -> str:
        rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{entity_type}/{parent}/{title}"))
        data = {"id": rid, "entity_type": entity_type, "title": title, "parent": parent, "published": True}
        lines.append({"kind": "resource", "data": {**data, **extra}})
        return rid

    integration = str(uuid.uuid5(uuid.NAMESPACE_URL, "snowflake"))
    lines.append(
        {"kind": "integration", "data": {"id": integration, "name": "snowflake", "type": "snowflake"}}
    )
    db = add("database", "analytics", integration=integration)
    schemas = {name: add("schema", name, db) for name in ("marts", "staging", "raw")}
    for schema, title, usage, verified, description, columns in TABLES:
        table = add(
            "table", title, schemas[schema], external_usage=usage, verified=verified, description=description
        )
        for position, column in enumerate(columns):
            add("column", column, table, external_usage=len(columns) - position)
    # Distractors: a stale and an archived near-duplicate stay hidden.
    add("table", "dim_customer_old", schemas["marts"], stale=True, external_usage=9000)
    add("table", "customer_legacy", schemas["raw"], archived=True, external_usage=9000)
    group = add("dashboard_group", "Executive")
    for title, (usage, charts) in DASHBOARDS.items():
        dashboard = add("dashboard", title, group, external_usage=usage)
        for chart in charts:
            add("chart", chart, dashboard)
    for title, definition in GLOSSARY.items():
        add("glossary", title, definition=definition)
    for title, description in DOCUMENTS.items():
        add("document", title, description=description)
    return lines


@pytest.fixture
def catalog(store: Store, admin: Principal) -> SearchService:
    report = Importer(store, admin).run(orjson.dumps(line) for line in _lines())
    assert report.errors == []
    return SearchService(store)


def test_precision_at_5_and_mrr_stay_above_the_thresholds(catalog: SearchService, admin: Principal):
    assert len(QUERIES) == 30
    precisions: list[float] = []
    reciprocal_ranks: list[float] = []
    misses: list[str] = []
    for q, relevant in QUERIES:
        titles = [hit.resource["title"] for hit in catalog.search(admin, SearchQuery(q=q)).results]
        top = titles[:5]
        precision = len(set(top) & relevant) / min(5, len(relevant))
        rank = next((i for i, t in enumerate(titles, start=1) if t in relevant), None)
        precisions.append(precision)
        reciprocal_ranks.append(1 / rank if rank else 0.0)
        if precision < 1 or rank != 1:
            misses.append(f"{q!r}: precision@5 {precision:.2f}, first relevant at {rank}, top {top}")
    mean_precision = sum(precisions) / len(precisions)
    mrr = sum(reciprocal_ranks) / len(reciprocal_ranks)
    report = f"precision@5 {mean_precision:.3f}, MRR {mrr:.3f}\n" + "\n".join(misses)
    assert mean_precision >= MIN_PRECISION_AT_5, report
    assert mrr >= MIN_MRR, report


def test_hidden_distractors_never_rank(catalog: SearchService, admin: Principal):
    titles = {
        hit.resource["title"]
        for hit in catalog.search(admin, SearchQuery(q="customer", page_size=100)).results
    }
    assert "dim_customer_old" not in titles
    assert "customer_legacy" not in titles
