"""The use cases: every front end (CLI, web app, research mode) calls these, and nothing else writes to the store.

Each function takes the workspace and an explicit athlete id; none falls back to "the first person".
"""
