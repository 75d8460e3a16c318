"""The F/S builders: the JSON they produce, and invalid combinations refused before any request."""

from __future__ import annotations

import pytest

from cairn import F, FilterError, S
from cairn.sdk.filters import filter_json, sort_json


def test_conditions_produce_the_catalog_filter_json():
    assert (F.type == "table").to_json() == {"operator": "exact", "field": "type", "value": "table"}
    assert F.title.contains("cust").to_json() == {"operator": "contains", "field": "title", "value": "cust"}
    assert F.native_type.isin(("table", "view")).to_json() == {
        "operator": "in",
        "field": "native_type",
        "value": ["table", "view"],
    }
    assert F.description.is_set().to_json() == {"operator": "is_set", "field": "description", "value": True}
    assert F["schema"].is_set(False).to_json()["value"] is False
    assert (F.pii != True).to_json() == {  # noqa: E712 - the builder overloads ==/!=
        "operator": "not",
        "operands": [{"operator": "exact", "field": "pii", "value": True}],
    }


def test_and_or_not_combine_and_flatten():
    a, b, c = F.type == "table", F.title.contains("cust"), F.verified == True  # noqa: E712
    assert ((a & b) & c).to_json() == {"operator": "and", "operands": [a.to_json(), b.to_json(), c.to_json()]}
    mixed = (a | b) & ~c
    assert mixed.to_json() == {
        "operator": "and",
        "operands": [
            {"operator": "or", "operands": [a.to_json(), b.to_json()]},
            {"operator": "not", "operands": [c.to_json()]},
        ],
    }


def test_sort_chains_tie_breakers():
    assert S.desc("external_usage").then(S.asc("title")).then(S.asc("id")).to_json() == {
        "field": "external_usage",
        "order": "desc",
        "tie_breaker": {"field": "title", "order": "asc", "tie_breaker": {"field": "id", "order": "asc"}},
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: F.colour == "red", "unknown filter field 'colour'"),
        (lambda: F.external_usage.contains("1"), "'contains' works on text and list fields only"),
        (lambda: F.external_usage == "many", "must be a number"),
        (lambda: F.published == "yes", "must be true or false"),
        (lambda: F.type.isin("table"), "takes a list"),
        (lambda: F.type.isin(range(1001)), "at most 1000"),
        (lambda: F.created_at == "yesterday", "ISO-8601"),
        (lambda: F.title.contains("x" * 1001), "longer than 1000"),
        (lambda: (F.type == "table") & {"operator": "exact"}, "cannot combine"),
        (lambda: (F.type == "table") and (F.pii == True), "use &, | and ~"),  # noqa: E712
        (lambda: S.asc("tags"), "cannot sort by list field 'tags'"),
        (lambda: S.asc("popularity"), "unknown filter field 'popularity'"),
        (lambda: S.asc("title").then("id"), "then() takes a sort"),
        (lambda: filter_json({"operator": "near", "field": "title"}), "unknown operator"),
        (lambda: filter_json("type = table"), "must be built with F"),
        (lambda: sort_json({"field": "title", "order": "up"}), "asc' or 'desc"),
    ],
)
def test_invalid_combinations_fail_before_any_request(build, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_sort_depth_is_limited_like_the_server():
    chain = S.asc("title")
    for _ in range(7):
        chain = chain.then(S.asc("id"))
    with pytest.raises(FilterError, match="tie-breakers"):
        chain.then(S.asc("id"))


def test_a_filter_error_is_a_value_error_and_a_cairn_error():
    import cairn

    with pytest.raises(ValueError):
        F.nope == 1  # noqa: B015
    assert issubclass(FilterError, cairn.CairnError)
