"""Cairn's own endpoints (beside the compatible dialects)."""
