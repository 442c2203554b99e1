"""Ingest: one module per format, each returning tidy data plus an :class:`~gutstride.ingest.record.ImportRecord`."""
