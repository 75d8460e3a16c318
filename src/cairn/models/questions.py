"""Questions and replies, event categories and event properties: entities with extra fields."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from cairn.models.common import Identifier, InputModel, ShortText
from cairn.models.resources import Resource, ResourcePage

QUESTION_STATUSES: tuple[str, ...] = ("OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED")
QUESTION_PRIORITIES: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "URGENT")


class QuestionFields(InputModel):
    """Sent beside the entity fields on ``/question/questions``."""

    assigned_to: Identifier | None = None
    status: Annotated[ShortText, Field(max_length=32)] | None = None
    priority: Annotated[ShortText, Field(max_length=32)] | None = None


class ReplyFields(InputModel):
    accepted_answer: bool | None = None


class EventPropertyFields(InputModel):
    type: Annotated[ShortText, Field(max_length=64)] | None = None
    enum: ShortText | list[ShortText] | None = None
    enum_values: Annotated[list[ShortText], Field(max_length=1000)] | None = None
    regex: ShortText | None = None
    is_array_type: bool | None = None
    is_required: bool | None = None


class Question(Resource):
    status: str | None = None
    priority: str | None = None
    assigned_to: str | None = None
    answered_by: str | None = None
    answer: str | None = None
    reactions: list[Any] = Field(default_factory=list)
    votes_sum: int = 0
    current_user_vote: int | None = None


class Reply(Resource):
    accepted_answer: bool = False
    question: str | None = None


class EventProperty(Resource):
    type: str | None = None
    enum_values: list[str] = Field(default_factory=list)
    regex: str | None = None
    is_array_type: bool = False
    is_required: bool = False


class QuestionPage(ResourcePage):
    results: list[Question]  # type: ignore[assignment]


class ReplyPage(ResourcePage):
    results: list[Reply]  # type: ignore[assignment]


class EventPropertyPage(ResourcePage):
    results: list[EventProperty]  # type: ignore[assignment]
