"""Use cases shared by the CLI, the web app and research mode (see DESIGN.md)."""
