"""The athlete's profile: read it, and change it after validation."""

from __future__ import annotations

from datetime import date

from gutstride.model.profile import Profile
from gutstride.store.profile import load_profile, save_profile
from gutstride.store.workspace import Workspace


def get_profile(ws: Workspace, athlete_id: int) -> Profile:
    """The stored profile of ``athlete_id`` (every field ``None`` when nothing was set)."""
    return load_profile(ws, athlete_id)


def set_profile(ws: Workspace, athlete_id: int, profile: Profile, today: date) -> Profile:
    """Validate and store ``profile`` for ``athlete_id``; an ``age`` is stored as a birth year. Returns it as stored.

    Raises
    ------
    BadInputError
        A value out of range (see :data:`gutstride.model.profile.RANGES`).
    """
    return save_profile(ws, athlete_id, profile, today)
