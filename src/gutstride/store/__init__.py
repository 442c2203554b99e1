"""The workspace store: entities in SQL (SQLAlchemy), streams and feature tables as Parquet beside it."""
