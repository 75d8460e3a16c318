"""A small, realistic catalog for first runs and demos."""

from __future__ import annotations

from sqlalchemy import select

from cairn.core.integrations import IntegrationService
from cairn.core.lineage import EdgeSpec, LineageService
from cairn.core.principal import Principal
from cairn.core.resources import ResourceService
from cairn.models.integrations import IntegrationCreate
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store.schema import resource

TABLES: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "analytics": {
        "marts": [
            (
                "dim_customer",
                "One row per customer, deduplicated across sources.",
                "customer_id,email,country,created_at,lifetime_value",
            ),
            (
                "fct_orders",
                "Orders with their totals, one row per order.",
                "order_id,customer_id,ordered_at,status,amount",
            ),
            (
                "fct_payments",
                "Payments captured by the payment provider.",
                "payment_id,order_id,method,amount,paid_at",
            ),
        ],
        "staging": [
            ("stg_customers", "Customers as loaded from the CRM.", "id,email,first_name,last_name,country"),
            ("stg_orders", "Orders as loaded from the shop database.", "id,user_id,order_date,status"),
        ],
    },
    "raw": {
        "shop": [
            (
                "orders",
                "Raw orders table replicated from the shop.",
                "id,user_id,order_date,status,_loaded_at",
            ),
            (
                "customers",
                "Raw customers table replicated from the CRM.",
                "id,email,first_name,last_name,_loaded_at",
            ),
        ],
    },
}

# Column data types by name, and the keys a crawler would have found (shown in the columns grid).
COLUMN_TYPES = {
    "amount": "numeric(12,2)",
    "lifetime_value": "numeric(12,2)",
    "created_at": "timestamp",
    "ordered_at": "timestamp",
    "paid_at": "timestamp",
    "order_date": "date",
    "_loaded_at": "timestamp",
}
FOREIGN_KEYS = {"customer_id": "dim_customer.customer_id", "order_id": "fct_orders.order_id"}


def column_metadata(table_name: str, column: str, position: int) -> dict[str, object]:
    """The first column of every demo table is its primary key; ``*_id`` columns point at theirs."""
    metadata: dict[str, object] = {}
    if position == 0:
        metadata["is_pk"] = True
    elif column in FOREIGN_KEYS and not FOREIGN_KEYS[column].startswith(table_name + "."):
        metadata["foreign_key"] = FOREIGN_KEYS[column]
    return metadata


# Who feeds whom in the demo, by title (tables, the dashboard and its charts; "table.column" for
# column-level edges): raw -> staging -> marts -> BI. The customer mart feeds nothing yet (the
# SDK and CLI tests add their own customer lineage and expect nothing downstream of it).
LINEAGE = [
    ("orders", "stg_orders"),
    ("customers", "stg_customers"),
    ("stg_orders", "fct_orders"),
    ("stg_customers", "dim_customer"),
    ("fct_orders", "fct_payments"),
    ("fct_orders", "Revenue overview"),
    ("fct_payments", "Revenue overview"),
    ("fct_orders", "Revenue by month"),
    ("fct_orders", "Orders by status"),
    ("orders.id", "stg_orders.id"),
    ("orders.user_id", "stg_orders.user_id"),
    ("orders.status", "stg_orders.status"),
    ("stg_orders.id", "fct_orders.order_id"),
    ("stg_orders.user_id", "fct_orders.customer_id"),
    ("stg_orders.status", "fct_orders.status"),
    ("customers.email", "stg_customers.email"),
    ("stg_customers.id", "dim_customer.customer_id"),
    ("stg_customers.email", "dim_customer.email"),
    ("fct_orders.order_id", "fct_payments.order_id"),
]

GLOSSARY = [
    ("Customer", "A person or company with at least one completed order."),
    ("Lifetime value", "Total revenue from a customer since their first order, net of refunds."),
    ("Active customer", "A customer with an order in the last 90 days."),
]


def load_demo(store: Store, principal: Principal) -> dict[str, int]:
    """Load the demo catalog once; a second call changes nothing."""
    resources = ResourceService(store)
    integrations = IntegrationService(store)
    with store.write() as conn:
        already = conn.execute(
            select(resource.c.id).where(
                resource.c.workspace_id == principal.workspace_id,
                resource.c.databuilder_id == "demo.warehouse",
            )
        ).first()
        if already is not None:
            return {"resources": 0}
        created = 0

        ids: dict[str, str] = {}  # lineage ends by title, columns as "table.column"

        def add(key: str | None = None, **fields: object) -> str:
            nonlocal created
            created += 1
            row = resources.create_in(conn, principal, ResourceWrite.model_validate(fields))
            ids[key or str(fields["title"])] = str(row["id"])
            return str(row["id"])

        warehouse = integrations.create_in(
            conn, principal, IntegrationCreate(name="Warehouse", type="postgres", credentials={})
        )
        bi = integrations.create_in(
            conn, principal, IntegrationCreate(name="BI", type="metabase", credentials={})
        )
        finance = add(
            entity_type="collection", title="Finance", description="Revenue and payments", published=True
        )
        marketing = add(
            entity_type="collection", title="Marketing", description="Customers and campaigns", published=True
        )
        usage = 1000
        for db_name, schemas in TABLES.items():
            db = add(
                entity_type="database",
                title=db_name,
                integration=warehouse["id"],
                published=True,
                databuilder_id="demo.warehouse" if db_name == "analytics" else f"demo.{db_name}",
            )
            for schema_name, tables in schemas.items():
                schema = add(entity_type="schema", title=schema_name, parent=db, published=True)
                for table_name, description, columns in tables:
                    collections = []
                    if "customer" in table_name:
                        collections.append(marketing)
                    if "order" in table_name or "payment" in table_name:
                        collections.append(finance)
                    usage -= 37
                    table = add(
                        entity_type="table",
                        native_type="table",
                        title=table_name,
                        parent=schema,
                        description=description,
                        published=True,
                        verified=schema_name == "marts",
                        collections=collections,
                        external_usage=usage,
                        row_count=usage * 113,
                    )
                    for position, column in enumerate(columns.split(",")):
                        add(
                            f"{table_name}.{column}",
                            entity_type="column",
                            native_type=COLUMN_TYPES.get(
                                column, "bigint" if column == "id" or column.endswith("_id") else "text"
                            ),
                            title=column,
                            parent=table,
                            published=True,
                            pii=column in ("email", "first_name", "last_name"),
                            external_usage=position,
                            display_metadata=column_metadata(table_name, column, position),
                        )
        group = add(entity_type="dashboard_group", title="Company KPIs", integration=bi["id"], published=True)
        dashboard = add(
            entity_type="dashboard",
            title="Revenue overview",
            parent=group,
            published=True,
            url="http://bi.local/dashboards/1",
            collections=[finance],
            external_usage=420,
        )
        for chart in ("Revenue by month", "Orders by status", "Top customers"):
            add(entity_type="chart", title=chart, parent=dashboard, published=True)
        for term, definition in GLOSSARY:
            add(
                entity_type="glossary",
                title=term,
                description=definition,
                definition=definition,
                published=True,
            )
        add(
            entity_type="document",
            title="How we model customers",
            published=True,
            definition="# Customers\n\nStaging deduplicates CRM rows; marts expose `dim_customer`.",
        )
        LineageService(store).add_edges_in(
            conn, principal, [EdgeSpec(ids[up], ids[down], "manual") for up, down in LINEAGE]
        )
    return {"resources": created}
