"""Analyses: pure functions over tables. No I/O, no printing."""
