"""The cohort methods paragraph says which terms a marginal PERMANOVA did not test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist, squareform

from gutstride.analysis.design import design_terms
from gutstride.analysis.microbiome.permanova import permanova_formula
from gutstride.report.cohort import methods_paragraph


def test_methods_name_the_terms_left_out_of_a_marginal_test() -> None:
    rng = np.random.default_rng(1)
    n = 20
    frame = pd.DataFrame({"week": rng.normal(size=n), "group": rng.choice(["a", "b"], n)})
    result = permanova_formula(squareform(pdist(rng.normal(size=(n, 2)))), design_terms(frame, "week * group"),
                               by="margin", permutations=9, seed=1)
    names = ["gutstride", "dask", "distributed", "zarr", "python", "numpy", "scipy", "scikit-bio"]
    versions = dict.fromkeys(names, "x")
    run = {"versions": versions, "samples_in_table": n, "samples_analysed": n, "samples_excluded": 0, "tiles": 1,
           "workers": 0, "dtype": "float32", "distance_store": "distance/braycurtis.zarr",
           "options": {"formula": "week * group", "column": None, "rarefy": None, "seed": 1, "strata": None,
                       "metric": "braycurtis", "permutations": 9}}
    text = methods_paragraph(result, run)
    assert "week:group: pseudo-F" in text and "marginal" in text
    assert "(week, group: not tested marginally, being contained in an interaction)" in text
