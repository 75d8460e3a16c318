"""Storage: one interface (``Store``) over SQLite and PostgreSQL."""

from cairn.store.engine import DEFAULT_DATABASE_URL, Store, database_url_from_env, normalize_url

__all__ = ["DEFAULT_DATABASE_URL", "Store", "database_url_from_env", "normalize_url"]
