"""Questions, their replies and the accepted answer; event categories and event properties.

All of them are catalog resources (so search, filters, history and the audit log see them);
what only they have (a reply's ``accepted_answer``, a question's ``answer``, an event property's
type) lives in the resource's details. A question's status, priority, assignee and answerer
are resource columns, so catalog rows expose them as ``question_*``.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Connection, select

from cairn.core import extras, records
from cairn.core import filters as flt
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, ResourceService
from cairn.models.questions import (
    QUESTION_PRIORITIES,
    QUESTION_STATUSES,
    EventPropertyFields,
    QuestionFields,
    ReplyFields,
)
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import catalog_user, resource

R = resource.c


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None:
        return None
    normalised = value.strip().upper().replace(" ", "_")
    if normalised not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)} (got '{value}')", field=field)
    return normalised


def question_json(entity: dict[str, Any]) -> dict[str, Any]:
    entity.update(
        status=entity["question_status"],
        priority=entity["question_priority"],
        assigned_to=entity["question_assigned_to"],
        answered_by=entity["question_answered_by"],
        answer=entity.get("answer"),
        reactions=[],
        votes_sum=0,
        current_user_vote=None,
    )
    return entity


def reply_json(entity: dict[str, Any]) -> dict[str, Any]:
    entity["accepted_answer"] = bool(entity.get("accepted_answer", False))
    entity["question"] = entity["parent"]
    return entity


def event_property_json(entity: dict[str, Any]) -> dict[str, Any]:
    entity.setdefault("type", None)
    entity.setdefault("enum_values", [])
    entity.setdefault("regex", None)
    entity["is_array_type"] = bool(entity.get("is_array_type", False))
    entity["is_required"] = bool(entity.get("is_required", False))
    return entity


class QuestionService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.resources = ResourceService(store)

    # ---- questions -------------------------------------------------------------------------------

    def _question_body(
        self, conn: Connection, principal: Principal, body: ResourceWrite, fields: QuestionFields
    ) -> ResourceWrite:
        sent = fields.model_fields_set
        updates: dict[str, Any] = {}
        if "assigned_to" in sent:
            if fields.assigned_to:
                records.existing_ids(
                    conn,
                    catalog_user,
                    principal.workspace_id,
                    [fields.assigned_to],
                    field="assigned_to",
                    noun="user",
                )
            updates["question_assigned_to"] = fields.assigned_to or None
        if "status" in sent:
            if fields.status is None:
                raise InvalidInput("status cannot be null", field="status")
            updates["question_status"] = _choice(fields.status, QUESTION_STATUSES, "status")
        if "priority" in sent:
            updates["question_priority"] = _choice(fields.priority, QUESTION_PRIORITIES, "priority")
        return body.model_copy(update=updates) if updates else body

    def create_question(
        self, principal: Principal, body: ResourceWrite, fields: QuestionFields
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            write = self._question_body(conn, principal, body, fields)
            if write.question_status is None:
                write = write.model_copy(update={"question_status": "OPEN"})
            row = self.resources.create_in(conn, principal, write, entity_type="question")
            return question_json(self.resources.entity(conn, row, principal))

    def update_question(
        self, principal: Principal, question_id: str, body: ResourceWrite, fields: QuestionFields
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            write = self._question_body(conn, principal, body, fields)
            row = self.resources.update_in(
                conn, principal, question_id, write, entity_type="question", allow_type_change=False
            )
            fresh = repo.get_row(conn, principal.workspace_id, row.id)
            assert fresh is not None
            return question_json(self.resources.entity(conn, fresh, principal))

    def get_question(self, principal: Principal, question_id: str) -> dict[str, Any]:
        return question_json(self.resources.get(principal, question_id, entity_type="question"))

    def list_questions(self, principal: Principal, paging: PageRequest) -> PageResult:
        result = self.resources.list(
            principal,
            filter_node=flt.exact("entity_type", "question"),
            sort=[flt.SortKey(flt.FIELDS["created_at"], descending=True)],
            paging=paging,
        )
        for item in result.items:
            question_json(item)
        return result

    # ---- replies ---------------------------------------------------------------------------------

    def _reply_title(self, conn: Connection, principal: Principal, parent_id: str | None) -> str:
        parent = (
            parent_id
            and records.valid_id(parent_id)
            and repo.get_row(conn, principal.workspace_id, parent_id)
        )
        if not parent or parent.entity_type != "question" or parent.archived:
            raise InvalidInput(f"parent {parent_id} is not a question", field="parent")
        return f"Re: {parent.title}"[:1000]

    def create_reply(self, principal: Principal, body: ResourceWrite, fields: ReplyFields) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            if body.parent is None:
                raise InvalidInput("parent (the question's id) is required", field="parent")
            derived_title = self._reply_title(conn, principal, body.parent)
            title = body.title or derived_title
            row = self.resources.create_in(
                conn, principal, body.model_copy(update={"title": title}), entity_type="question_reply"
            )
            if fields.accepted_answer:
                self._accept(conn, principal, row["parent_id"], row["id"], row["pk"], row["owners"])
            fresh = repo.get_row(conn, principal.workspace_id, row["id"])
            assert fresh is not None
            return reply_json(self.resources.entity(conn, fresh, principal))

    def update_reply(
        self, principal: Principal, reply_id: str, body: ResourceWrite, fields: ReplyFields
    ) -> dict[str, Any]:
        principal.require_write()
        ws = principal.workspace_id
        with self.store.write() as conn:
            if "parent" in body.model_fields_set:
                self._reply_title(conn, principal, body.parent)
            row = self.resources.update_in(
                conn, principal, reply_id, body, entity_type="question_reply", allow_type_change=False
            )
            fresh = repo.get_row(conn, ws, row.id)
            assert fresh is not None
            if "accepted_answer" in fields.model_fields_set:
                if fields.accepted_answer is None:
                    raise InvalidInput("accepted_answer cannot be null", field="accepted_answer")
                if fields.accepted_answer:
                    self._accept(conn, principal, fresh.parent_id, fresh.id, fresh.pk, fresh.owners)
                else:
                    self._unaccept(conn, principal, fresh.parent_id, fresh.id, fresh.pk)
            return reply_json(self.resources.entity(conn, fresh, principal))

    def delete_reply(self, principal: Principal, reply_id: str) -> None:
        principal.require_write()
        with self.store.write() as conn:
            row = records.valid_id(reply_id) and repo.get_row(conn, principal.workspace_id, reply_id)
            if row and row.entity_type == "question_reply" and not row.archived:
                self._unaccept(conn, principal, row.parent_id, row.id, row.pk)
            self.resources.delete_in(conn, principal, reply_id, entity_type="question_reply")

    def _accept(
        self,
        conn: Connection,
        principal: Principal,
        question_id: str,
        reply_id: str,
        reply_pk: int,
        owners: builtins.list[str],
    ) -> None:
        """One accepted answer per question: accepting a reply un-accepts the others."""
        ws = principal.workspace_id
        siblings = conn.execute(
            select(R.pk).where(
                R.workspace_id == ws, R.parent_id == question_id, R.entity_type == "question_reply"
            )
        ).scalars()
        for pk in siblings:
            if pk != reply_pk:
                extras.set_details(conn, ws, pk, {"accepted_answer": None})
        extras.set_details(conn, ws, reply_pk, {"accepted_answer": True})
        question = repo.get_row(conn, ws, question_id, for_update=True)
        if question is None:
            raise NotFound(f"question {question_id} does not exist")
        extras.set_details(conn, ws, question.pk, {"answer": reply_id})
        self.resources.update_in(
            conn,
            principal,
            question_id,
            ResourceWrite(question_status="RESOLVED", question_answered_by=owners[0] if owners else None),
            entity_type="question",
        )

    def _unaccept(
        self, conn: Connection, principal: Principal, question_id: str, reply_id: str, reply_pk: int
    ) -> None:
        ws = principal.workspace_id
        extras.set_details(conn, ws, reply_pk, {"accepted_answer": None})
        question = repo.get_row(conn, ws, question_id, for_update=True)
        if question is None:
            return
        if extras.details_of(conn, [question.pk]).get(question.pk, {}).get("answer") == reply_id:
            extras.set_details(conn, ws, question.pk, {"answer": None})
            self.resources.update_in(
                conn,
                principal,
                question_id,
                ResourceWrite(question_status="OPEN", question_answered_by=None),
                entity_type="question",
            )

    def get_reply(self, principal: Principal, reply_id: str) -> dict[str, Any]:
        return reply_json(self.resources.get(principal, reply_id, entity_type="question_reply"))

    def list_replies(self, principal: Principal, paging: PageRequest, *, question: str | None) -> PageResult:
        node: flt.Filter | None = flt.exact("entity_type", "question_reply")
        if question:
            node = flt.all_of(node, flt.exact("parent", question))
        result = self.resources.list(
            principal,
            filter_node=node,
            sort=[flt.SortKey(flt.FIELDS["created_at"], descending=False)],
            paging=paging,
        )
        for item in result.items:
            reply_json(item)
        return result

    # ---- event properties ----------------------------------------------------------------------

    @staticmethod
    def _event_details(fields: EventPropertyFields) -> dict[str, Any]:
        sent = fields.model_fields_set
        details: dict[str, Any] = {}
        if "type" in sent:
            details["type"] = fields.type
        if "enum_values" in sent or "enum" in sent:
            raw = fields.enum_values if "enum_values" in sent else fields.enum
            if isinstance(raw, str):
                raw = [part.strip() for part in raw.split(",") if part.strip()]
            details["enum_values"] = list(raw or [])
        for name in ("regex", "is_array_type", "is_required"):
            if name in sent:
                details[name] = getattr(fields, name)
        return details

    def create_event_property(
        self, principal: Principal, body: ResourceWrite, fields: EventPropertyFields
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            row = self.resources.create_in(conn, principal, body, entity_type="event_property")
            details = self._event_details(fields)
            if details:
                extras.set_details(conn, principal.workspace_id, row["pk"], details)
            return event_property_json(self.resources.entity(conn, row, principal))

    def update_event_property(
        self, principal: Principal, property_id: str, body: ResourceWrite, fields: EventPropertyFields
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            row = self.resources.update_in(
                conn, principal, property_id, body, entity_type="event_property", allow_type_change=False
            )
            details = self._event_details(fields)
            if details:
                extras.set_details(conn, principal.workspace_id, row.pk, details)
            fresh = repo.get_row(conn, principal.workspace_id, row.id)
            assert fresh is not None
            return event_property_json(self.resources.entity(conn, fresh, principal))

    def get_event_property(self, principal: Principal, property_id: str) -> dict[str, Any]:
        return event_property_json(self.resources.get(principal, property_id, entity_type="event_property"))

    def list_event_properties(self, principal: Principal, paging: PageRequest) -> PageResult:
        result = self.resources.list(
            principal, filter_node=flt.exact("entity_type", "event_property"), paging=paging
        )
        for item in result.items:
            event_property_json(item)
        return result
