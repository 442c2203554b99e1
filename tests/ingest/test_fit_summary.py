"""The quick FIT summary of ``inspect`` (:mod:`gutstride.ingest.activities.fit_summary`, compiled
``fit_inspect``) against the full decoder (:func:`~gutstride.ingest.activities.fit.read_fit`, itself checked
against fitdecode in test_fit.py): the same ``inspect`` JSON for every FIT file in the test data and for
corrupted copies of real files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gutstride.ingest.activities import fit_summary
from gutstride.jsonout import dumps
from gutstride.services.inspect import describe_file

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"
FIT_FILES = sorted(p for p in ACTIVITIES.rglob("*") if p.is_file() and ".fit" in p.name.lower())
RIDE = ACTIVITIES / "sweatpy" / "4801048867.fit"


def full_decoder_json(path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``inspect --json`` printed before the quick path: every file through the full (numpy) decoder."""
    with monkeypatch.context() as patch:
        patch.setattr(fit_summary, "quick_summary", lambda data: None)
        return dumps(describe_file(path))


def test_quick_path_prints_what_the_full_decoder_prints_for_every_fit_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(FIT_FILES) > 40
    quick = 0
    for path in FIT_FILES:
        quick += fit_summary.quick_summary(path.read_bytes()) is not None
        assert dumps(describe_file(path)) == full_decoder_json(path, monkeypatch), path
    assert quick >= 30  # the common case: single well-formed activity files, from many devices


def test_typical_ride_takes_the_quick_path() -> None:
    summary = fit_summary.quick_summary(RIDE.read_bytes())
    assert summary is not None and summary[0]["n_records"] > 1000 and summary[0]["n_hr"] > 1000


def test_numpy_sum_order() -> None:
    import numpy as np

    rng = random.Random(18)
    for n in [*range(1, 40), 64, 127, 128]:
        values = [rng.random() * 10 ** rng.randint(0, 6) for _ in range(n)]
        assert fit_summary.numpy_sum(values) == float(np.sum(np.array(values))), n


@pytest.mark.parametrize("name", ["garmin-fenix-5-bike.fit", "2015-10-13-08-43-15.fit",
                                  "null_compressed_speed_dist.fit", "DeveloperData.fit"])
def test_corrupted_copies_read_the_same_or_fall_back(name: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Random byte changes, cuts and extensions: the quick path either declines or agrees (and never crashes)."""
    original = (ACTIVITIES / "fit-fitparse" / name).read_bytes()
    rng = random.Random(name)
    copy = tmp_path / name
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[:rng.randrange(len(data))]
        elif rng.random() < 0.1:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        copy.write_bytes(bytes(data))
        assert dumps(describe_file(copy)) == full_decoder_json(copy, monkeypatch), bytes(data).hex()
