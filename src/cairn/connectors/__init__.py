"""Connectors: outside formats (dbt artifacts, ...) turned into catalog records."""
