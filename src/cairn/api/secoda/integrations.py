"""Secoda dialect: ``/integration/integrations``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException

from cairn.api.deps import PrincipalDep, Services, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS, TextParam, text_param
from cairn.core.errors import InvalidInput
from cairn.core.extractions import ExtractionFilter, ExtractionService
from cairn.core.principal import Principal
from cairn.core.resources import DEFAULT_PAGE_SIZE, PageRequest
from cairn.core.runs import RunService
from cairn.core.sync import IntegrationSync
from cairn.models.integrations import (
    DbtSyncSummary,
    ExtractionPage,
    ImportSummary,
    Integration,
    IntegrationCreate,
    IntegrationPage,
    RunLogIngest,
    RunLogSummary,
    RunPage,
)
from cairn.models.resources import ResourcePage

router = APIRouter(tags=["integrations"])


@router.get(
    "/integration/integrations",
    response_model=IntegrationPage,
    responses=ERRORS,
    operation_id="integrations_list",
)
def list_integrations(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    type: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = services.integrations.list(
        principal, type=text_param(type, "type"), paging=paging(page, page_size)
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/integration/integrations",
    status_code=201,
    response_model=Integration,
    responses=ERRORS,
    operation_id="integrations_create",
)
def create_integration(principal: PrincipalDep, services: ServicesDep, body: IntegrationCreate) -> Response:
    return FastJSONResponse(services.integrations.create(principal, body), status_code=201)


@router.get(
    "/integration/integrations/{integration_id}",
    response_model=Integration,
    responses=ERRORS,
    operation_id="integrations_get",
)
def get_integration(integration_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(services.integrations.get(principal, integration_id))


@router.delete(
    "/integration/integrations/{integration_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="integrations_delete",
)
def delete_integration(integration_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.integrations.delete(principal, integration_id)
    return Response(status_code=204)


# ---- what integrations push: metadata files, dbt artifacts, Airflow run logs ----------------------

_UPLOAD_LIMIT_FILES = 8


def _multipart_body(names: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI description of a multipart upload of ``names`` (all optional files)."""
    return {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {n: {"type": "string", "format": "binary"} for n in names},
                    }
                }
            }
        }
    }


async def uploaded_files(request: Request, names: tuple[str, ...]) -> dict[str, bytes]:
    """The named parts of a multipart upload (a file, or a plain field holding the content)."""
    content_type = request.headers.get("content-type", "")
    wanted = ", ".join(f"'{n}'" for n in names)
    if not content_type.lower().startswith("multipart/form-data"):
        # pysecoda sends JSON holding local file paths, which no server can open.
        raise InvalidInput(
            f"upload the files as multipart/form-data with the fields {wanted} "
            f"(got {content_type.split(';')[0] or 'no content type'}; a file path in JSON cannot be read)",
            field=names[0],
        )
    try:
        form = await request.form(max_files=_UPLOAD_LIMIT_FILES, max_fields=_UPLOAD_LIMIT_FILES)
    except (MultiPartException, ValueError) as exc:
        raise InvalidInput(f"the multipart body cannot be read: {exc}", field=names[0]) from exc
    found: dict[str, bytes] = {}
    try:
        for name in names:
            part = form.get(name)
            if part is None:
                continue
            if isinstance(part, StarletteUploadFile):
                found[name] = await part.read()
            else:
                found[name] = part.encode("utf-8", "surrogateescape")
    finally:
        await form.close()
    return found


@router.post(
    "/integration/integrations/{integration_id}/import_metadata",
    response_model=ImportSummary,
    responses=ERRORS,
    operation_id="integrations_import_metadata",
    openapi_extra=_multipart_body(("file", "resources_file", "lineages_file")),
)
async def import_metadata(
    integration_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    files = await uploaded_files(request, ("file", "resources_file", "lineages_file"))
    if "lineages_file" in files and "resources_file" not in files:
        raise InvalidInput(
            "'lineages_file' comes with the 'resources_file' it refers to", field="resources_file"
        )
    summary = await run_in_threadpool(
        IntegrationSync(services.store).import_metadata,
        principal,
        integration_id,
        csv_file=files.get("file"),
        resources_file=files.get("resources_file"),
        lineages_file=files.get("lineages_file"),
    )
    return FastJSONResponse(summary)


@router.post(
    "/integration/dbt/{integration_id}/upload_artifacts",
    response_model=DbtSyncSummary,
    responses=ERRORS,
    operation_id="dbt_upload_artifacts",
    openapi_extra=_multipart_body(("manifest", "run_results")),
)
async def dbt_upload_artifacts(
    integration_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    files = await uploaded_files(request, ("manifest", "run_results", "manifest_file", "run_results_file"))
    summary = await run_in_threadpool(
        IntegrationSync(services.store).dbt_upload,
        principal,
        integration_id,
        manifest=files.get("manifest", files.get("manifest_file")),
        run_results=files.get("run_results", files.get("run_results_file")),
    )
    return FastJSONResponse(summary)


async def _legacy_dbt(request: Request, principal: Principal, services: Services, part: str) -> Response:
    files = await uploaded_files(request, (f"{part}_file", "integration_id"))
    raw_id = files.get("integration_id")
    if raw_id is None:
        raise InvalidInput("the form field 'integration_id' is required", field="integration_id")
    if f"{part}_file" not in files:
        raise InvalidInput(f"the file '{part}_file' is required", field=f"{part}_file")
    summary = await run_in_threadpool(
        IntegrationSync(services.store).dbt_upload,
        principal,
        raw_id.decode("utf-8", "replace").strip(),
        **{part: files[f"{part}_file"], ("run_results" if part == "manifest" else "manifest"): None},
    )
    return FastJSONResponse(summary)


# The older documented uploads: one artifact per call, the integration named in the form.
@router.post(
    "/integration/dbt/manifest",
    response_model=DbtSyncSummary,
    responses=ERRORS,
    operation_id="dbt_legacy_manifest",
    openapi_extra=_multipart_body(("manifest_file", "integration_id")),
)
async def dbt_legacy_manifest(request: Request, principal: PrincipalDep, services: ServicesDep) -> Response:
    return await _legacy_dbt(request, principal, services, "manifest")


@router.post(
    "/integration/dbt/run_results",
    response_model=DbtSyncSummary,
    responses=ERRORS,
    operation_id="dbt_legacy_run_results",
    openapi_extra=_multipart_body(("run_results_file", "integration_id")),
)
async def dbt_legacy_run_results(
    request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    return await _legacy_dbt(request, principal, services, "run_results")


@router.post(
    "/integration/dbt/{integration_id}/trigger",
    response_model=DbtSyncSummary,
    responses=ERRORS,
    operation_id="dbt_trigger",
)
def dbt_trigger(integration_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(IntegrationSync(services.store).dbt_trigger(principal, integration_id))


@router.get(
    "/integration/dbt/{integration_id}/failing_tests",
    response_model=ResourcePage,
    responses=ERRORS,
    operation_id="dbt_failing_tests",
)
def dbt_failing_tests(
    integration_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = IntegrationSync(services.store).failing_tests(principal, integration_id, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/integration/run_logs/{integration_id}/ingest",
    status_code=201,
    response_model=RunLogSummary,
    responses=ERRORS,
    operation_id="airflow_run_logs_ingest",
)
def ingest_run_log(
    integration_id: str, principal: PrincipalDep, services: ServicesDep, body: RunLogIngest
) -> Response:
    result = IntegrationSync(services.store).ingest_run_log(principal, integration_id, body)
    return FastJSONResponse(result, status_code=201)


@router.get(
    "/resource/all/{resource_id}/runs",
    response_model=RunPage,
    responses=ERRORS,
    operation_id="resources_runs",
)
def resource_runs(
    resource_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = RunService(services.store).list(principal, resource_id, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.get(
    "/integration/extractions",
    response_model=ExtractionPage,
    responses=ERRORS,
    operation_id="extractions_list",
)
def list_extractions(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    integration_id: TextParam = None,
    status: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    """Every ingest of the workspace's integrations, newest first."""
    where = ExtractionFilter(text_param(integration_id, "integration_id"), text_param(status, "status"))
    return _extraction_page(request, principal, services, where, paging(page, page_size))


@router.get(
    "/integration/integrations/{integration_id}/extractions",
    response_model=ExtractionPage,
    responses=ERRORS,
    operation_id="integrations_extractions",
)
def integration_extractions(
    integration_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    status: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    """The ingests of one integration, newest first."""
    services.integrations.get(principal, integration_id)
    where = ExtractionFilter(integration_id, text_param(status, "status"))
    return _extraction_page(request, principal, services, where, paging(page, page_size))


def _extraction_page(
    request: Request, principal: Principal, services: Services, where: ExtractionFilter, pages: PageRequest
) -> Response:
    result = ExtractionService(services.store).list(principal, where, pages)
    return FastJSONResponse(envelope(request, result))
