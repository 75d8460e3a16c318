"""OpenLineage 2-0-2 events as Cairn reads them: RunEvent, JobEvent and DatasetEvent.

Only the parts Cairn uses are modelled (and validated); other facets are accepted and ignored,
as the spec's extensible facets require.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cairn.models.common import JsonObject, ShortText, Text, check_text

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
MAX_BATCH = 5000

# Namespaces and names become resource titles and databuilder ids: storable on every backend.
Name = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(check_text)]


class _Facet(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SchemaField(_Facet):
    name: Name
    type: ShortText | None = None
    description: Text | None = None


class SchemaFacet(_Facet):
    fields: list[SchemaField] = Field(default_factory=list, max_length=10_000)


class InputField(_Facet):
    namespace: Name
    name: Name
    field: Name


class ColumnLineageField(_Facet):
    inputFields: list[InputField] = Field(default_factory=list, max_length=10_000)  # noqa: N815


class ColumnLineageFacet(_Facet):
    fields: dict[Name, ColumnLineageField] = Field(default_factory=dict)


class DocumentationFacet(_Facet):
    description: Text


class DatasetFacets(_Facet):
    schema_: SchemaFacet | None = Field(default=None, alias="schema")
    columnLineage: ColumnLineageFacet | None = None  # noqa: N815
    documentation: DocumentationFacet | None = None


class Dataset(_Facet):
    namespace: Name
    name: Name
    facets: DatasetFacets | None = None


class JobTypeFacet(_Facet):
    processingType: ShortText | None = None  # noqa: N815
    integration: ShortText | None = None
    jobType: ShortText | None = None  # noqa: N815


class SqlFacet(_Facet):
    query: Text


class JobFacets(_Facet):
    documentation: DocumentationFacet | None = None
    jobType: JobTypeFacet | None = None  # noqa: N815
    sql: SqlFacet | None = None


class Job(_Facet):
    namespace: Name
    name: Name
    facets: JobFacets | None = None


class Run(_Facet):
    runId: uuid.UUID  # noqa: N815
    facets: JsonObject | None = None


class LineageEvent(_Facet):
    """A RunEvent (``run`` and ``job``), a JobEvent (``job``) or a DatasetEvent (``dataset``)."""

    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = None  # noqa: N815
    eventTime: datetime  # noqa: N815
    producer: ShortText
    schemaURL: ShortText  # noqa: N815
    run: Run | None = None
    job: Job | None = None
    dataset: Dataset | None = None
    inputs: list[Dataset] = Field(default_factory=list, max_length=10_000)
    outputs: list[Dataset] = Field(default_factory=list, max_length=10_000)


class LineageBatch(BaseModel):
    """The batch form: a JSON array of events (``POST /api/v1/lineage/batch``)."""

    events: list[LineageEvent]


class LineageReceipt(BaseModel):
    events: int
    jobs: int
    datasets: int
    runs: int
    created: int
    lineage_edges: int
