"""Users (``/user``), teams (``/auth/teams``) and groups (``/auth/group``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cairn.models.common import Identifier, InputModel, ReadModel, ShortText, Text
from cairn.models.resources import PageLinks, PageMeta

Name = Annotated[ShortText, Field(max_length=200)]
Email = Annotated[ShortText, Field(min_length=3, max_length=254)]
IdList = Annotated[list[Identifier], Field(max_length=10_000)]


class UserWrite(InputModel):
    """Create takes ``email`` (or the older ``emails`` list); PATCH changes only what is sent."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    emails: Annotated[list[Email], Field(max_length=1000)] | None = None
    role: Annotated[ShortText, Field(max_length=16)] | None = None
    teams: IdList | None = None
    user_groups: IdList | None = None
    groups: IdList | None = None  # the older create body's name for user_groups
    disabled: bool | None = None


class User(ReadModel):
    id: str
    created_at: str
    updated_at: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    role: str
    workspace_id: str
    workspace: str
    profile_picture: str | None = None
    pending: bool
    disabled: bool
    is_service_account: bool
    service_account_count_popularity: bool = False
    new_feature_acknowledged: bool = True
    last_login: str | None = None
    user_groups: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    bookmarks: list[str] = Field(default_factory=list)


class UserInvitation(BaseModel):
    msg: str
    results: list[User]


TeamType = Literal["OPEN", "CLOSED"]


class SidebarSettings(InputModel):
    home: bool | None = None
    catalog: bool | None = None
    documents: bool | None = None
    questions: bool | None = None
    glossary: bool | None = None
    collections: bool | None = None


class TeamWrite(InputModel):
    name: Annotated[Name, Field(min_length=1)] | None = None
    icon: ShortText | None = None
    description: Text | None = None
    type: TeamType | None = None
    members: IdList | None = None
    archived: bool | None = None
    sidebar_settings: SidebarSettings | None = None


class Team(ReadModel):
    id: str
    created_at: str
    updated_at: str
    name: str
    icon: str | None = None
    type: str
    description: str | None = None
    sidebar_settings: dict[str, bool]
    workspace_id: str
    archived: bool
    is_default_team: bool
    onboarding_completed: bool
    onboarding_complete: bool
    members: list[str] = Field(default_factory=list)


class GroupWrite(InputModel):
    name: Annotated[Name, Field(min_length=1)] | None = None
    icon: ShortText | None = None
    description: Text | None = None
    users: IdList | None = None
    snowflake_role: ShortText | None = None


class Group(ReadModel):
    id: str
    created_at: str
    updated_at: str
    users: list[str] = Field(default_factory=list)
    name: str
    icon: str | None = None
    description: str | None = None
    workspace_id: str
    snowflake_role: str | None = None


class _Page(BaseModel):
    links: PageLinks
    meta: PageMeta
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None


class UserPage(_Page):
    results: list[User]


class TeamPage(_Page):
    results: list[Team]


class GroupPage(_Page):
    results: list[Group]
