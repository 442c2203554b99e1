"""PCoA results as the scikit-bio / QIIME 2 ordination text format (``OrdinationResults.write``, "ordination").

Sections, separated by blank lines: ``Eigvals<TAB>k`` and the eigenvalues; ``Proportion explained<TAB>k`` and the
proportions; ``Species<TAB>0<TAB>0``; ``Site<TAB>n<TAB>k`` and one line per sample (id, then its coordinates);
``Biplot<TAB>0<TAB>0``; ``Site constraints<TAB>0<TAB>0``. QIIME 2 imports it as ``PCoAResults``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gutstride.analysis.microbiome.ordination import Ordination
from gutstride.errors import BadInputError


def _row(values: np.ndarray) -> str:
    return "\t".join(repr(float(v)) for v in values)


def write_ordination(path: Path, result: Ordination) -> None:
    """Write ``result`` to ``path`` in the ordination format (see the module docstring)."""
    bad = next((s for s in result.sample_ids if "\t" in s or "\n" in s), None)
    if bad is not None:
        raise BadInputError(f"sample id {bad!r} contains a tab or a line break")
    n, k = result.coordinates.shape
    lines = [f"Eigvals\t{k}", _row(result.eigenvalues), "", f"Proportion explained\t{k}",
             _row(result.proportion_explained), "", "Species\t0\t0", "", f"Site\t{n}\t{k}"]
    lines += [f"{sample}\t{_row(row)}" for sample, row in zip(result.sample_ids, result.coordinates, strict=True)]
    lines += ["", "Biplot\t0\t0", "", "Site constraints\t0\t0", ""]
    Path(path).write_text("\n".join(lines))
