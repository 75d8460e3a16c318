"""The text index's ``hits_beyond`` (what the search path guard reads): the resources holding every
term but not every term in the given fields, worked out inside the index, equal on both backends
to ``hits`` minus ``matches`` within those fields."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cairn.store.schema import resource
from cairn.store.search import Field, Term, text_index
from tests.helpers import create, make_integration

OWN: tuple[Field, ...] = ("title", "description", "definition")
QUERIES: list[tuple[Term, ...]] = [
    (Term(("customer",), prefix=True),),
    (Term(("customer",)),),
    (Term(("marts",)), Term(("orders",), prefix=True)),
    (Term(("orders",)), Term(("customer",), prefix=True)),
    (Term(("analytics",), prefix=True),),
    (Term(("nothing",)),),
]


@pytest.fixture
def titles(api: Any) -> dict[int, str]:
    integration = make_integration(api.client, "snowflake")
    db = create(api.client, entity_type="database", title="analytics", integration=integration)
    marts = create(api.client, entity_type="schema", title="marts", parent=db["id"])
    customers = create(api.client, entity_type="table", title="customers", parent=marts["id"])
    orders = create(
        api.client, entity_type="table", title="orders", parent=marts["id"], description="one per customer"
    )
    for parent, title in ((customers, "customer_id"), (customers, "name"), (orders, "total")):
        create(api.client, entity_type="column", title=title, parent=parent["id"])
    create(api.client, entity_type="document", title="customer orders", description="analytics marts")
    with api.store.read() as conn:
        return {int(pk): str(title) for pk, title in conn.execute(select(resource.c.pk, resource.c.title))}


def test_hits_beyond_are_the_hits_not_matched_within_the_fields(api: Any, titles: dict[int, str]) -> None:
    index = text_index(api.store.dialect)
    seen_beyond = 0
    with api.store.read() as conn:
        for terms in QUERIES:
            every = set(conn.execute(index.hits(terms)).scalars())
            within = set(conn.execute(index.hits(terms, fields=OWN)).scalars())
            beyond = set(conn.execute(index.hits_beyond(terms, OWN)).scalars())
            assert beyond == every - within, [titles[pk] for pk in beyond ^ (every - within)]
            seen_beyond += len(beyond)
        # "customer*" is in the paths of the columns of customers alone, not in their titles
        name = next(pk for pk, title in titles.items() if title == "name")
        assert name in set(conn.execute(index.hits_beyond(QUERIES[0], OWN)).scalars())
    assert seen_beyond > 0
