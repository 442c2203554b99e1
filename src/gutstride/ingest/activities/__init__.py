"""Activity readers: FIT, GPX, TCX, CSV summaries, and whole-account exports."""
