"""Ingest: one module per format, each returning tidy data plus an import record per file."""
