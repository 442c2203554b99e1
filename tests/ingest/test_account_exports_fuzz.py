"""Fuzzing the Google Fit, Runkeeper and Fitbit readers: mutated fixture files and random contents give an
ExportBundle or a one-line BadInputError, never another exception."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.fitbit import read_fitbit
from gutstride.ingest.google_fit import read_google_fit
from gutstride.ingest.runkeeper import read_runkeeper

from .test_account_exports import Members, fitbit_members, runkeeper_members, takeout_members

FUZZ = settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
CPH = ZoneInfo("Europe/Copenhagen")


READERS = {
    "google-fit": (lambda c: read_google_fit(c), takeout_members()),
    "runkeeper": (lambda c: read_runkeeper(c, CPH), runkeeper_members()),
    "fitbit": (lambda c: read_fitbit(c, CPH), fitbit_members(False)),
}


def _check(kind: str, files: dict[str, bytes]) -> None:
    reader = READERS[kind][0]
    try:
        bundle = reader(Members(files))
    except BadInputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(bundle, ExportBundle) and len(bundle.activities) == len(bundle.extras)


@pytest.mark.parametrize("kind", list(READERS))
@FUZZ
@given(data=st.data())
def test_mutated_members(kind: str, data: st.DataObject) -> None:
    files = {name: text.encode() for name, text in READERS[kind][1].items()}
    name = data.draw(st.sampled_from(sorted(files)))
    content = files[name]
    position = data.draw(st.integers(0, max(0, len(content) - 1)))
    patch = data.draw(st.binary(max_size=12) | st.sampled_from([b"", b"{", b"]", b",", b"\x00", b"nan", b"1e999"]))
    files[name] = content[:position] + patch + content[position + data.draw(st.integers(0, 60)):]
    _check(kind, files)


@pytest.mark.parametrize("kind", list(READERS))
@FUZZ
@given(st.binary(max_size=400))
def test_random_member(kind: str, blob: bytes) -> None:
    files = {name: blob for name in READERS[kind][1]}
    _check(kind, files)
