"""Connectors: SQL databases, dbt artifacts and OpenLineage events, merged into the catalog."""
