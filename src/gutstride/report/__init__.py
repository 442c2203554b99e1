"""Presenters: the report and research exports."""
