"""Secoda dialect: users (``/user``), teams (``/auth/teams``) and groups (``/auth/group``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS
from cairn.core.people import GroupService, TeamService, UserService
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.models.people import (
    Group,
    GroupPage,
    GroupWrite,
    Team,
    TeamPage,
    TeamWrite,
    User,
    UserInvitation,
    UserPage,
    UserWrite,
)

router = APIRouter()
Flag = Annotated[bool, Query()]


# ---- users ---------------------------------------------------------------------------------------


@router.get("/user", response_model=UserPage, responses=ERRORS, operation_id="users_list", tags=["users"])
def list_users(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = UserService(services.store).list(principal, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/user",
    status_code=201,
    response_model=User | UserInvitation,
    responses=ERRORS,
    operation_id="users_create",
    tags=["users"],
    summary="Create a user (email), or invite several at once (the older {emails: [...]} body)",
)
def create_user(principal: PrincipalDep, services: ServicesDep, body: UserWrite) -> Response:
    created = UserService(services.store).create(principal, body)
    if body.emails is not None:
        emails = ", ".join(u["email"] for u in created)
        return FastJSONResponse({"msg": f"Invitation sent to {emails}", "results": created}, status_code=201)
    return FastJSONResponse(created[0], status_code=201)


@router.get(
    "/user/{user_id}", response_model=User, responses=ERRORS, operation_id="users_get", tags=["users"]
)
def get_user(user_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(UserService(services.store).get(principal, user_id))


@router.patch(
    "/user/{user_id}", response_model=User, responses=ERRORS, operation_id="users_update", tags=["users"]
)
def update_user(user_id: str, principal: PrincipalDep, services: ServicesDep, body: UserWrite) -> Response:
    return FastJSONResponse(UserService(services.store).update(principal, user_id, body))


@router.delete(
    "/user/{user_id}", status_code=204, responses=ERRORS, operation_id="users_delete", tags=["users"]
)
def delete_user(user_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    UserService(services.store).delete(principal, user_id)
    return Response(status_code=204)


# ---- teams ---------------------------------------------------------------------------------------


@router.get(
    "/auth/teams", response_model=TeamPage, responses=ERRORS, operation_id="teams_list", tags=["teams"]
)
def list_teams(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    include_archived: Flag = False,
    only_joined: Flag = False,
    only_write: Flag = False,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    # An API key acts for the workspace as a whole, so it has joined, and may write to, every
    # team: ``only_joined`` and ``only_write`` are accepted and narrow nothing.
    result = TeamService(services.store).list(
        principal, paging(page, page_size), include_archived=include_archived
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/auth/teams",
    status_code=201,
    response_model=Team,
    responses=ERRORS,
    operation_id="teams_create",
    tags=["teams"],
)
def create_team(principal: PrincipalDep, services: ServicesDep, body: TeamWrite) -> Response:
    return FastJSONResponse(TeamService(services.store).create(principal, body), status_code=201)


@router.get(
    "/auth/teams/{team_id}", response_model=Team, responses=ERRORS, operation_id="teams_get", tags=["teams"]
)
def get_team(team_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(TeamService(services.store).get(principal, team_id))


@router.patch(
    "/auth/teams/{team_id}",
    response_model=Team,
    responses=ERRORS,
    operation_id="teams_update",
    tags=["teams"],
)
def update_team(team_id: str, principal: PrincipalDep, services: ServicesDep, body: TeamWrite) -> Response:
    return FastJSONResponse(TeamService(services.store).update(principal, team_id, body))


@router.delete(
    "/auth/teams/{team_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="teams_delete",
    tags=["teams"],
    summary="Delete a team; resources that belonged only to it move to the default team",
)
def delete_team(team_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    TeamService(services.store).delete(principal, team_id)
    return Response(status_code=204)


# ---- groups --------------------------------------------------------------------------------------


@router.get(
    "/auth/group", response_model=GroupPage, responses=ERRORS, operation_id="groups_list", tags=["groups"]
)
def list_groups(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = GroupService(services.store).list(principal, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/auth/group",
    status_code=201,
    response_model=Group,
    responses=ERRORS,
    operation_id="groups_create",
    tags=["groups"],
)
def create_group(principal: PrincipalDep, services: ServicesDep, body: GroupWrite) -> Response:
    return FastJSONResponse(GroupService(services.store).create(principal, body), status_code=201)


@router.get(
    "/auth/group/{group_id}",
    response_model=Group,
    responses=ERRORS,
    operation_id="groups_get",
    tags=["groups"],
)
def get_group(group_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(GroupService(services.store).get(principal, group_id))


@router.patch(
    "/auth/group/{group_id}",
    response_model=Group,
    responses=ERRORS,
    operation_id="groups_update",
    tags=["groups"],
)
def update_group(group_id: str, principal: PrincipalDep, services: ServicesDep, body: GroupWrite) -> Response:
    return FastJSONResponse(GroupService(services.store).update(principal, group_id, body))


@router.delete(
    "/auth/group/{group_id}", status_code=204, responses=ERRORS, operation_id="groups_delete", tags=["groups"]
)
def delete_group(group_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    GroupService(services.store).delete(principal, group_id)
    return Response(status_code=204)
