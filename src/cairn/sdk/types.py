"""Enumerations the SDK accepts."""

from __future__ import annotations

from enum import StrEnum


class CollectionType(StrEnum):
    MODEL = "model"
    DATASET = "dataset"
