"""Bulk inserts run the search index's insert triggers once per batch (store/insert_triggers.py):
the index and the search documents must come out exactly as the per-row triggers make them."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cairn.core.exchange import Importer
from cairn.core.principal import Principal
from cairn.store import Store, insert_triggers
from cairn.store.schema import resource

TITLES = [
    "dimCustomer",
    "fact_orders",
    "analytics.dim_customer",
    "O'Brien {draft} [v2]",
    "UPPER_CASE_NAME",
    "Ünïcode Über Straße",
    "plain",
    "Net Revenue Retention",
    "a-b/c:d,e;f(g)h#i@j&k+l=m!n?o*p|q",
    "",
]
QUERIES = ["customer", "cu*", "dim", "title: orders", "brien", "draft", "uber", "revenue", "q", "retention"]


def _lines(tag: str, count: int) -> list[bytes]:
    lines = []
    for i in range(count):
        data: dict[str, Any] = {
            "entity_type": "document" if i % 3 else "glossary",
            "title": f"{TITLES[i % len(TITLES)]} {i}",
            "description": "" if i % 4 == 0 else f"About {TITLES[(i + 3) % len(TITLES)]} and table {i}",
            "url": f"{tag}-{i}",
            "published": i % 2 == 0,
            "verified": i % 5 == 0,
            "external_usage": i * 7,
            "internal_usage": i % 11,
            "definition": "select 1" if i % 6 == 0 else None,
        }
        lines.append(orjson.dumps({"kind": "resource", "data": data}))
    return lines


def _search_docs(store: Store, tag: str) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        rows = conn.execute(
            text(
                "SELECT r.url, d.entity_type, d.published, d.archived, d.stale, d.integration_id, "
                "d.database, d.schema, d.boost, d.title_key, d.title_words, d.path_words, d.team_set, "
                "d.hidden_above "
                "FROM search_doc d JOIN resource r ON r.pk = d.pk WHERE r.url LIKE :tag"
            ),
            {"tag": f"{tag}-%"},
        ).all()
    return sorted((row[0].split("-", 1)[1], *row[1:]) for row in rows)


def _matches(store: Store, tag: str, query: str) -> list[str]:
    with store.read() as conn:
        if store.dialect == "sqlite":
            sql = (
                "SELECT r.url FROM resource_fts JOIN resource r ON r.pk = resource_fts.rowid "
                "WHERE resource_fts MATCH :q AND r.url LIKE :tag"
            )
        else:
            sql = (
                "SELECT r.url FROM resource_search s JOIN resource r ON r.pk = s.resource_pk "
                "WHERE s.vector @@ to_tsquery('simple', :q) AND r.url LIKE :tag"
            )
            query = query.replace("title: ", "").replace("*", ":*")
        urls = conn.execute(text(sql), {"q": query, "tag": f"{tag}-%"}).scalars()
        return sorted(url.split("-", 1)[1] for url in urls)


def _triggers(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        if store.dialect == "sqlite":
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        else:
            sql = "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
        return [tuple(row) for row in conn.execute(text(sql))]


def test_batch_path_indexes_exactly_like_row_triggers(
    store: Store, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 1200
    triggers = _triggers(store)
    with monkeypatch.context() as patch:
        patch.setattr(insert_triggers, "MIN_ROWS", 10**9)  # every row through its triggers
        report = Importer(store, admin, workers=0).run(_lines("row", count))
    assert (report.errors, report.total) == ([], count)
    report = Importer(store, admin, workers=0).run(_lines("set", count))
    assert (report.errors, report.total) == ([], count)
    assert _triggers(store) == triggers, "the triggers must be back, unchanged"
    row_docs = _search_docs(store, "row")
    assert len(row_docs) == count
    assert _search_docs(store, "set") == row_docs
    for query in QUERIES:
        expected = _matches(store, "row", query)
        assert _matches(store, "set", query) == expected, query
    assert _matches(store, "set", "customer"), "the queries must find something"


def _copy_rows(conn: Any, source: str, target: str) -> None:
    """Insert a copy of every resource tagged ``source``, tagged ``target``, with new ids."""
    columns = [c.name for c in resource.columns if c.name != "pk"]
    values = [
        {"id": "lower(hex(randomblob(16)))", "url": f"'{target}-' || substr(url, {len(source) + 2})"}.get(
            name, name
        )
        for name in columns
    ]
    if conn.dialect.name == "postgresql":
        values = [v.replace("lower(hex(randomblob(16)))", "gen_random_uuid()::text") for v in values]
        values = [v.replace("substr(url, ", "substr(url::text, ") for v in values]
    conn.execute(
        text(
            f"INSERT INTO resource ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM resource WHERE url LIKE '{source}-%' ORDER BY pk"
        )
    )


def test_an_error_inside_the_block_keeps_the_triggers(store: Store, admin: Principal) -> None:
    Importer(store, admin, workers=0).run(_lines("src", 600))
    triggers = _triggers(store)

    def fail_inside() -> None:
        with store.write() as conn, insert_triggers.once_per_batch(conn, "resource", 600):
            _copy_rows(conn, "src", "gone")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert _triggers(store) == triggers
    assert _search_docs(store, "gone") == []
    # A caller that catches the error and commits keeps what it inserted, indexed.
    with store.write() as conn:
        try:
            with insert_triggers.once_per_batch(conn, "resource", 600):
                _copy_rows(conn, "src", "kept")
                raise ValueError("caught")
        except ValueError:
            pass
    assert _triggers(store) == triggers
    assert _search_docs(store, "kept") == _search_docs(store, "src")
    assert _matches(store, "kept", "customer") == _matches(store, "src", "customer") != []
    # Later single writes still go through the triggers.
    Importer(store, admin, workers=0).run(_lines("one", 1))
    assert len(_search_docs(store, "one")) == 1
    assert _matches(store, "one", "dimcustomer") == ["0"]


def test_only_known_trigger_shapes_are_converted() -> None:
    convert = insert_triggers._convert
    known = convert(
        "resource",
        "t",
        "CREATE TRIGGER t AFTER INSERT ON resource BEGIN\n"
        "  INSERT INTO x (a, b) VALUES (new.pk, replace(new.title, ';', ' '));\n"
        "  UPDATE x SET b = trim(b) WHERE pk = new.pk;\nEND",
    )
    assert known is not None
    assert known.statements == (
        "INSERT INTO x (a, b) SELECT new.pk, replace(new.title, ';', ' ') "
        "FROM resource AS new WHERE new.pk >= ",
        "UPDATE x SET b = trim(b) WHERE pk >= ",
    )
    # A WHEN condition narrows the set-based statement (the lane without columns, 0019_search).
    lane = convert(
        "resource",
        "t",
        "CREATE TRIGGER t AFTER INSERT ON resource WHEN new.entity_type <> 'column' BEGIN\n"
        "  INSERT INTO x (a) VALUES (new.pk);\nEND",
    )
    assert lane is not None
    assert lane.statements == (
        "INSERT INTO x (a) SELECT new.pk FROM resource AS new "
        "WHERE (new.entity_type <> 'column') AND new.pk >= ",
    )
    unknown = [
        "CREATE TRIGGER t AFTER INSERT ON resource WHEN new.pk > 1 BEGIN "
        "UPDATE x SET b = 1 WHERE pk = new.pk; "
        "END",
        "CREATE TRIGGER t AFTER INSERT ON resource WHEN old.pk > 1 BEGIN INSERT INTO x (a) VALUES (1); END",
        "CREATE TRIGGER t AFTER INSERT ON resource BEGIN DELETE FROM x WHERE a = new.pk; END",
        "CREATE TRIGGER t AFTER INSERT ON resource BEGIN UPDATE x SET b = new.title WHERE pk = new.pk; END",
        "CREATE TRIGGER t AFTER INSERT ON other BEGIN INSERT INTO x (a) VALUES (new.pk); END",
        "CREATE TRIGGER t BEFORE INSERT ON resource BEGIN INSERT INTO x (a) VALUES (new.pk); END",
    ]
    for sql in unknown:
        assert convert("resource", "t", sql) is None, sql


def _migration_0012_search_doc() -> Any:
    path = Path(insert_triggers.__file__).parent / "migrations" / "versions" / "0012_search_doc.py"
    spec = importlib.util.spec_from_file_location("migration_0012_search_doc", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_WORDS_ORACLE: list[str] = []


def _sql_words(conn: sqlite3.Connection, value: str | None) -> tuple[str, str]:
    """``title_words`` and ``title_key`` as the trigger's own SQL makes them."""
    if not _WORDS_ORACLE:
        m = _migration_0012_search_doc()
        _WORDS_ORACLE.append(
            f"WITH a(v) AS (VALUES (?)), b(w) AS (SELECT {m._camel_lower('v')} FROM a) "
            f"SELECT {m._framed(m._spaced('w'))}, replace({m._spaced('w')}, ' ', '') FROM b"
        )
    words, key = conn.execute(_WORDS_ORACLE[0], (value,)).fetchone()
    return str(words), str(key)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.text(alphabet=st.sampled_from("aZ_ .-/:,;()[]{}\"'#@&+=!?*|\t\nÄßÜx9 "), max_size=40),
        # ASCII only: the native words take a bytes path there.
        st.text(alphabet=st.sampled_from("aZqQ_ .-/:,;()[]{}\"'#@&+=!?*|\t\n9 "), max_size=60),
        st.text(max_size=30),
    )
)
def test_native_search_words_equal_the_trigger_sql(value: str | None) -> None:
    with sqlite3.connect(":memory:") as conn:
        assert _sql_words(conn, value) == (
            insert_triggers.search_words(value),
            insert_triggers.search_key(value),
        )


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_search_doc_trigger_has_its_native_form(store: Store) -> None:
    """When migrations change ``search_doc_insert``, its native statement must follow (or go)."""
    with store.write() as conn:
        converted = {t.name: t for t in insert_triggers._set_based_triggers(conn, "resource")}
    assert converted["search_doc_insert"].statements == (insert_triggers._SEARCH_DOC_INSERT,)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_lane_trigger_with_when_runs_set_based(store: Store) -> None:
    """The lane of non-columns (0019_search) is kept by a WHEN trigger: it is converted too."""
    with store.write() as conn:
        converted = {t.name: t for t in insert_triggers._set_based_triggers(conn, "resource")}
    (statement,) = converted["resource_fts_entities_insert"].statements
    assert "WHERE (new.entity_type <> 'column') AND new.pk >= " in statement
