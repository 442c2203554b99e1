"""Fixtures for the microbiome readers: the real American Gut table and helpers that write real formats."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import biom
import h5py
import numpy as np
import pytest

MICROBIOME = Path(__file__).parents[2] / "data" / "microbiome"
AG = MICROBIOME / "american-gut" / "AG_debug" / "AG_100nt.biom.gz"
UUID = "4f5a6e0c-6b7d-4c3e-9f1a-2b3c4d5e6f70"


@pytest.fixture(scope="session")
def ag_biom() -> biom.Table:
    """The American Gut table as biom-format loads it (the reference for our readers)."""
    return biom.load_table(str(AG))


@pytest.fixture(scope="session")
def ag_small(ag_biom: biom.Table) -> biom.Table:
    """40 samples of the American Gut table and the features they hold (keeps text round trips fast)."""
    sub = ag_biom.filter(ag_biom.ids()[:40], axis="sample", inplace=False)
    return sub.filter(lambda v, i, md: v.sum() > 0, axis="observation", inplace=False)


def hdf5_bytes(table: biom.Table) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        table.to_hdf5(handle, "gutstride tests")
    return buffer.getvalue()


def write_qza(path: Path, artifact_type: str, members: dict[str, bytes], fmt: str = "BIOMV210DirFmt") -> Path:
    """A QIIME 2 artifact laid out as QIIME 2 writes it: <uuid>/{VERSION, metadata.yaml, data/...}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{UUID}/VERSION", "QIIME 2\narchive: 5\nframework: 2023.9.1\n")
        archive.writestr(f"{UUID}/metadata.yaml", f"uuid: {UUID}\ntype: {artifact_type}\nformat: {fmt}\n")
        for name, data in members.items():
            archive.writestr(f"{UUID}/data/{name}", data)
    return path


def dense(table) -> np.ndarray:  # noqa: ANN001 - FeatureTable
    return np.asarray(table.data.toarray())
