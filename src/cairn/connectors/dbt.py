"""dbt artifacts (``manifest.json``, ``run_results.json``) as catalog records.

Models, seeds, snapshots and sources become tables under their database and schema, with their
columns; tests become ``test`` resources that name what they test; ``depends_on`` becomes
table lineage; run results become runs and each test's last status. The output is the ingest
engine's records (``cairn.core.ingest``), so the Secoda upload endpoint and any other entry
point (a CLI) share one parser and one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cairn.core.errors import InvalidInput
from cairn.core.exchange import parse_timestamp
from cairn.core.ingest import Link, Record, synthetic_id
from cairn.models.common import check_text

TABLE_TYPES = ("model", "seed", "snapshot", "source")
FAILING = frozenset({"fail", "error"})


@dataclass(frozen=True)
class DbtResult:
    """One entry of ``run_results.json``."""

    unique_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    execution_time: float | None
    message: str | None
    failures: int | None


@dataclass
class DbtArtifacts:
    records: list[Record] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    results: list[DbtResult] = field(default_factory=list)
    invocation_id: str | None = None


def _load(data: bytes, name: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}", field=name) from exc
    if not isinstance(parsed, dict):
        raise InvalidInput(f"{name} must be a JSON object", field=name)
    return parsed


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or value == "":
        return None
    try:
        return check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"dbt artifact text {exc}", field="manifest") from exc


def parse_run_results(data: bytes, name: str = "run_results") -> tuple[str | None, list[DbtResult]]:
    doc = _load(data, name)
    results = doc.get("results")
    if not isinstance(results, list):
        raise InvalidInput(f"{name} has no 'results' list (is it a dbt run_results.json?)", field=name)
    parsed: list[DbtResult] = []
    for index, item in enumerate(results):
        if not isinstance(item, dict) or not isinstance(item.get("unique_id"), str):
            raise InvalidInput(f"{name} results[{index}] has no unique_id", field=name)
        started = finished = None
        for step in item.get("timing") or []:
            if isinstance(step, dict) and step.get("name") == "execute":
                started, finished = (
                    parse_timestamp(step.get("started_at")),
                    parse_timestamp(step.get("completed_at")),
                )
        failures = item.get("failures")
        elapsed = item.get("execution_time")
        parsed.append(
            DbtResult(
                unique_id=item["unique_id"],
                status=(_text(str(item.get("status") or "")) or "unknown").lower()[:32],
                started_at=started,
                finished_at=finished,
                execution_time=float(elapsed) if isinstance(elapsed, int | float) else None,
                message=_text(item.get("message")),
                failures=failures if isinstance(failures, int) and not isinstance(failures, bool) else None,
            )
        )
    metadata = doc.get("metadata")
    invocation = metadata.get("invocation_id") if isinstance(metadata, dict) else None
    invocation_id = _text(invocation) if isinstance(invocation, str) else None
    return (invocation_id[:200] if invocation_id else None), parsed


def parse_artifacts(
    manifest: bytes, run_results: bytes | None = None, *, manifest_name: str = "manifest"
) -> DbtArtifacts:
    doc = _load(manifest, manifest_name)
    nodes = doc.get("nodes")
    sources = doc.get("sources") or {}
    if not isinstance(nodes, dict) or not isinstance(sources, dict):
        raise InvalidInput(
            f"{manifest_name} has no 'nodes' object (is it a dbt manifest.json?)", field=manifest_name
        )
    out = DbtArtifacts()
    if run_results is not None:
        out.invocation_id, out.results = parse_run_results(run_results)
    latest = {r.unique_id: r for r in out.results}
    tables: set[str] = set()
    entries = [*nodes.items(), *sources.items()]
    for unique_id, node in entries:
        if not isinstance(node, dict):
            raise InvalidInput(f"{manifest_name}: node {unique_id} must be an object", field=manifest_name)
        kind = node.get("resource_type")
        if kind in TABLE_TYPES:
            out.records.extend(_table(unique_id, node, manifest_name))
            tables.add(unique_id)
    for unique_id, node in entries:
        kind = node.get("resource_type")
        depends = node.get("depends_on") or {}
        upstream = [d for d in depends.get("nodes") or [] if isinstance(d, str)]
        if kind in TABLE_TYPES:
            out.links.extend(
                Link(dep, unique_id, f"{manifest_name} node {unique_id}")
                for dep in dict.fromkeys(upstream)
                if dep in tables and dep != unique_id
            )
        elif kind == "test":
            tested = [d for d in upstream if d in tables]
            attached = node.get("attached_node")
            if isinstance(attached, str) and attached in tables and attached not in tested:
                tested.insert(0, attached)
            details: dict[str, Any] = {"dbt_tested": tested}
            column = node.get("column_name")
            if isinstance(column, str):
                details["dbt_column"] = column
            result = latest.get(unique_id)
            if result is not None:
                details["dbt_status"] = result.status
                if result.failures is not None:
                    details["dbt_failures"] = result.failures
                if result.message:
                    details["dbt_message"] = result.message
            meta = node.get("test_metadata")
            out.records.append(
                Record(
                    entity_type="test",
                    databuilder_id=unique_id,
                    title=_text(node.get("name")) or unique_id,
                    description=_text(node.get("description")),
                    native_type=_text(meta.get("name")) if isinstance(meta, dict) else "singular",
                    details=details,
                    where=f"{manifest_name} node {unique_id}",
                )
            )
    return out


def _table(unique_id: str, node: dict[str, Any], manifest_name: str) -> list[Record]:
    kind = node["resource_type"]
    where = f"{manifest_name} node {unique_id}"
    database = _text(node.get("database")) or "default"
    schema = _text(node.get("schema"))
    if schema is None:
        raise InvalidInput(f"{where} has no schema", field=manifest_name)
    title = _text(node.get("alias")) or _text(node.get("identifier")) or _text(node.get("name")) or unique_id
    config = node.get("config")
    config = config if isinstance(config, dict) else {}
    native = (_text(config.get("materialized")) if kind == "model" else None) or kind
    records = [
        Record(
            entity_type="table",
            databuilder_id=unique_id,
            title=title,
            parent_databuilder_id=synthetic_id("schema", f"{database}.{schema}"),
            description=_text(node.get("description")),
            native_type=native,
            search_metadata={"schema": schema, "database": database},
            where=where,
        )
    ]
    columns = node.get("columns") or {}
    if isinstance(columns, dict):
        for position, (name, column) in enumerate(columns.items()):
            info = column if isinstance(column, dict) else {}
            records.append(
                Record(
                    entity_type="column",
                    databuilder_id=f"{unique_id}.{name}",
                    title=_text(info.get("name")) or str(name),
                    parent_databuilder_id=unique_id,
                    description=_text(info.get("description")),
                    native_type=_text(info.get("data_type")),
                    details={"sort_order": position},
                    where=f"{where} column {name}",
                )
            )
    return records
