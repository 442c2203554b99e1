"""Read and write the person's profile (the profile columns of the ``person`` table)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from gutstride.model.profile import PERSON_FIELDS, Profile
from gutstride.store.workspace import Workspace


def profile_from_person(person: Any) -> Profile:
    """The :class:`Profile` of a stored person (any object with the ``person`` table's profile attributes)."""
    return Profile(**{name: getattr(person, name, None) for name in PERSON_FIELDS})


def load_profile(ws: Workspace, athlete_id: int) -> Profile:
    """The stored profile of ``athlete_id`` (an empty profile if nothing was set)."""
    with ws.session() as session:
        person = ws.athlete(session, athlete_id)
        return profile_from_person(person)


def save_profile(ws: Workspace, athlete_id: int, profile: Profile, today: date) -> Profile:
    """Validate ``profile`` and store it; an ``age`` is stored as the birth year ``today.year - age``.

    Raises
    ------
    BadInputError
        If a value is out of range (see :data:`gutstride.analysis.training.profile.RANGES`).
    """
    profile.validated(today)
    values = asdict(profile)
    if profile.age is not None:
        values["birth_year"] = today.year - round(profile.age)
    with ws.session() as session:
        person = ws.athlete(session, athlete_id)
        for name in PERSON_FIELDS:
            setattr(person, name, values[name])
    return load_profile(ws, athlete_id)
