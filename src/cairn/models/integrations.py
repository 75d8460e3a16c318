"""Integrations: the sources that own databases, dashboards and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, JsonValue

from cairn.models.common import Identifier, InputModel, JsonObject, ReadModel, ShortText, Text, check_json


class IntegrationCreate(InputModel):
    name: ShortText = Field(min_length=1)
    type: ShortText = Field(default="custom", min_length=1)
    teams: list[Identifier] = Field(default_factory=list)
    credentials: JsonObject = Field(default_factory=dict)


class Integration(ReadModel):
    id: str
    created_at: str
    updated_at: str
    name: str
    type: str
    credentials: dict[str, Any] = Field(default_factory=dict)
    workspace_id: str
    teams: list[str] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)


class _Envelope(BaseModel):
    links: dict[str, str | None]
    meta: dict[str, int | None]
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None


class IntegrationPage(_Envelope):
    results: list[Integration]


class AirflowTaskInstance(InputModel):
    """What the Secoda Airflow provider reports about one task try."""

    task_id: ShortText = Field(min_length=1)
    dag_id: ShortText = Field(min_length=1)
    start_date: datetime | None = None
    end_date: datetime | None = None
    state: ShortText | None = None
    try_number: int | None = Field(default=None, ge=0)
    max_tries: int | None = Field(default=None, ge=0)
    hostname: ShortText | None = None
    sql: Text | None = None


class AirflowDag(InputModel):
    dag_id: ShortText = Field(min_length=1)
    start_date: datetime | None = None
    end_date: datetime | None = None
    schedule_interval: Annotated[JsonValue, AfterValidator(check_json)] = None
    catchup: bool | None = None
    is_paused_upon_creation: bool | None = None
    description: Text | None = None
    max_active_tasks: int | None = Field(default=None, ge=0)
    max_active_runs: int | None = Field(default=None, ge=0)


class RunLogIngest(InputModel):
    task_instance: AirflowTaskInstance | None = None
    dag: AirflowDag | None = None


class ImportSummary(BaseModel):
    """What an ingest did: resources created, updated, left unchanged, marked stale; edges."""

    integration_id: str | None = None
    created: int
    updated: int
    unchanged: int
    stale: int
    lineage: int


class DbtSyncSummary(ImportSummary):
    message: str
    runs: int


class RunLogSummary(BaseModel):
    job_id: str
    runs_recorded: int


class Run(ReadModel):
    id: str
    name: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    details: dict[str, Any]
    created_at: str
    updated_at: str


class RunPage(_Envelope):
    results: list[Run]


class Extraction(ReadModel):
    """One ingest of an integration: ``status`` is succeeded, partial (some items failed) or failed."""

    id: str
    integration_id: str | None
    integration_name: str | None = None
    source: str
    status: str
    actor: str
    started_at: str
    finished_at: str
    summary: dict[str, Any]
    error: str | None


class ExtractionPage(_Envelope):
    results: list[Extraction]
