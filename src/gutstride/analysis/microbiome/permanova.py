"""PERMANOVA with a formula: how much of the variation in a distance matrix do the terms of a model explain?

Sums of squares after McArdle & Anderson (2001), as vegan's ``adonis2``. With ``A = -D∘D / 2`` (``D`` the
distances) and ``G = (I - 11'/n) A (I - 11'/n)`` Gower's centred matrix:

    SS_total = tr(G) = (1/n) sum_{i<j} d_ij^2
    SS(model with design X) = tr(H G),  H = X (X'X)^- X'  (X includes the intercept)
    SS_residual = SS_total - SS(full model),  df_residual = n - 1 - rank(full model without the intercept)
    F_term = (SS_term / df_term) / (SS_residual / df_residual),  R2_term = SS_term / SS_total

- ``by="terms"`` (sequential, adonis2's ``by = "terms"``): ``SS_term_k = SS(terms 1..k) - SS(terms 1..k-1)``,
  ``df_term_k`` the rank it adds.
- ``by="margin"`` (marginal, adonis2's ``by = "margin"``): ``SS_term = SS(all terms) - SS(all terms but this one)``,
  ``df_term`` the rank the model loses without it. As in vegan, only the terms that R's ``drop.scope`` may drop
  are tested: a main effect inside an interaction of the model (``week`` in ``week * group``) is listed in
  ``not_tested``, not given a meaningless marginal test.

Numeric columns enter as continuous terms and categorical ones as treatment-coded dummies (built by
:func:`gutstride.analysis.design.design_terms`). With one categorical term this is Anderson's (2001) one-way
pseudo-F, equal to scikit-bio's ``permanova``.

Computation. ``tr(H G)`` is ``sum_j q_j' G q_j`` over an orthonormal basis ``q_j`` of the centred design; built
term by term (Gram-Schmidt by blocks), the basis is nested, so one pass gives every sequential sum. Since the
``q_j`` are orthogonal to ``1``, ``q' G q = -(1/2) q' D2 q`` with ``D2`` the squared distances.

Permutation test, as vegan's ``adonis2``. ``adonis2`` fits the model with ``adonis0`` and tests it with
``anova.cca`` (model ``"reduced"``), which calls ``permutest.cca`` (C: ``do_getF``) for ``by="terms"`` through
``anovaCCAbyterm``, and ``permutest.cca`` once for the full model and once for each model without one term for
``by="margin"`` through ``anovaCCAbymargin``. An ``adonis2`` model has no ``Condition()`` part, so the "reduced"
model's residuals are the data themselves: each permutation ``pi`` permutes the rows and columns of the whole
Gower matrix, ``G* = G[pi, pi]``, the design stays fixed, and every term's statistic comes from that one ``G*``:

    sequential:  F*_k = (SS*_k / df_k) / (RSS* / df_residual),  SS*_k = tr(H_1..k G*) - tr(H_1..k-1 G*)
    marginal:    F*_k = ((tr(H G*) - tr(H_-k G*)) / df_k) / (RSS* / df_residual)
    RSS* = tr(G) - tr(H G*)  (the full model's residual under the same permutation)

Here the design's rows are permuted instead, which gives the same statistics (``q' G[pi, pi] q`` equals
``q[pi^-1]' G q[pi^-1]``), so all permutations of a batch are one matrix product ``D2 @ [Q_pi1 ... Q_piB]``.
(The former ``adonis`` did the same for sequential terms; so permuting the raw data and ``adonis2``'s scheme
agree here.) Permutations are drawn as ``rng.permutation`` of the sample indices, in order, from
``numpy.random.default_rng(seed)`` (within each stratum when ``strata`` is given: samples are exchanged only
with samples of the same stratum, e.g. the same person, as ``how(blocks = strata)`` in vegan); without strata
this is the sequence scikit-bio draws, so p-values agree with scikit-bio's for the same seed. The p-value is
``(1 + #{F* >= F}) / (1 + permutations)``; permuted statistics equal to ``F`` up to rounding (within
``1e-9 |F|``; vegan uses ``sqrt(machine eps)``) count as ``>=``.

PERMDISP (Anderson, 2006) and pairwise tests are in :func:`permdisp` and :func:`pairwise_permanova`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from gutstride.errors import BadInputError

#: float64 values of permuted bases held in memory at once (n x batch columns).
_BATCH_VALUES = 2_000_000
#: Relative tolerance of the ``F* >= F`` comparison.
_TIE = 1e-9


# ---------------------------------------------------------------------------------------------------------- bases


def _orthonormal_extension(basis: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning what ``block`` adds to the span of ``basis`` (centred columns)."""
    residual = block - basis @ (basis.T @ block) if basis.shape[1] else block.copy()
    if basis.shape[1]:
        residual -= basis @ (basis.T @ residual)  # second pass: Gram-Schmidt twice is enough
    if not residual.size:
        return residual
    u, s, _ = np.linalg.svd(residual, full_matrices=False)
    scale = max(float(np.linalg.norm(block, axis=0).max(initial=0.0)), 1.0)
    return u[:, s > 1e-10 * scale * np.sqrt(block.shape[0])]


def nested_basis(terms: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Orthonormal basis of the centred columns of ``terms`` in order, and the rank each term adds."""
    n = terms[0].shape[0]
    basis = np.zeros((n, 0))
    ranks = []
    for block in terms:
        centred = np.asarray(block, dtype=np.float64).reshape(n, -1)
        centred = centred - centred.mean(axis=0)
        extra = _orthonormal_extension(basis, centred)
        basis = np.hstack([basis, extra])
        ranks.append(extra.shape[1])
    return basis, ranks


class Model:
    """The columns whose quadratic forms give every sum of squares of a sequential or marginal test.

    ``basis`` holds ``[full nested basis | basis without term k, for each term k tested marginally]``;
    :meth:`sums_of_squares` turns the quadratic forms ``q' G q`` of these columns into the tested terms' sums of
    squares. ``tested`` lists the terms with a test: all of them for ``by="terms"``; for ``by="margin"`` those
    that no other term contains (:func:`gutstride.analysis.design.marginal_terms`), as vegan's ``adonis2``.
    ``df`` are their degrees of freedom: the rank a term adds to the terms before it (sequential), or the rank
    the full model loses without it (marginal).
    """

    def __init__(self, terms: list[np.ndarray], by: str, names: list[str]) -> None:
        from gutstride.analysis.design import marginal_terms

        if by not in ("terms", "margin"):
            raise BadInputError(f"--by must be 'terms' or 'margin', not {by!r}")
        self.by = by
        full, ranks = nested_basis(terms)
        self.ranks = ranks
        self.tested = list(range(len(terms))) if by == "terms" else marginal_terms(names)
        blocks = [full]
        if by == "margin":
            blocks += [nested_basis([t for j, t in enumerate(terms) if j != k])[0] if len(terms) > 1
                       else np.zeros((full.shape[0], 0)) for k in self.tested]
        self.widths = [b.shape[1] for b in blocks]
        self.basis = np.hstack(blocks)
        self.df = [ranks[k] for k in self.tested] if by == "terms" else [self.widths[0] - w for w in self.widths[1:]]

    @property
    def df_model(self) -> int:
        return int(sum(self.ranks))

    def sums_of_squares(self, quad: np.ndarray) -> np.ndarray:
        """Sums of squares of each tested term (columns) for each row of quadratic forms ``quad``
        (b x basis columns)."""
        full = quad[:, : self.widths[0]]
        if self.by == "terms":
            bounds = np.cumsum([0, *self.ranks])
            return np.stack([full[:, bounds[k] : bounds[k + 1]].sum(axis=1) for k in self.tested], 1)
        total = full.sum(axis=1)
        starts = np.cumsum(self.widths)
        return np.stack([total - quad[:, starts[k] : starts[k + 1]].sum(axis=1) for k in range(len(self.tested))], 1)


def quadratic_forms(d2: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``q' G q = -(1/2) q' D2 q`` for each column ``q`` (orthogonal to 1) of ``columns``."""
    return -0.5 * np.einsum("ij,ij->j", columns, d2 @ columns)


# ----------------------------------------------------------------------------------------------- permutations


def permutation_batches(
    n: int, permutations: int, seed: int | None, strata: list[str] | None, batch: int
) -> Iterator[np.ndarray]:
    """The permutations of ``0..n-1`` (as ``batch x n`` index arrays), always the same sequence for a seed.

    Without strata each permutation is ``rng.permutation(n)``; with strata each stratum's indices are shuffled
    among themselves, stratum after stratum. The batch size does not change the sequence.
    """
    rng = np.random.default_rng(seed)
    blocks = _strata_blocks(strata, n)
    done = 0
    while done < permutations:
        size = min(batch, permutations - done)
        out = np.empty((size, n), dtype=np.intp)
        for b in range(size):
            if blocks is None:
                out[b] = rng.permutation(n)
            else:
                out[b] = np.arange(n)
                for block in blocks:
                    out[b, block] = block[rng.permutation(block.size)]
        done += size
        yield out


def _strata_blocks(strata: list[str] | None, n: int) -> list[np.ndarray] | None:
    """Index sets whose rows are shuffled among themselves (None: all of them freely)."""
    if strata is None:
        return None
    if len(strata) != n:
        raise BadInputError(f"{len(strata)} strata labels for {n} samples")
    _, stratum = np.unique(np.asarray([str(s) for s in strata]), return_inverse=True)
    return [np.flatnonzero(stratum == k) for k in range(int(stratum.max()) + 1)]


def batch_size(n: int, columns: int) -> int:
    """Permutations per batch so that the permuted bases stay near :data:`_BATCH_VALUES` values."""
    return max(1, _BATCH_VALUES // max(1, n * columns))


# ------------------------------------------------------------------------------------------------- PERMANOVA


def permanova_table(
    ss_total: float,
    n: int,
    names: list[str],
    model: Model,
    observed: np.ndarray,
    exceed: np.ndarray,
    permutations: int,
) -> dict[str, Any]:
    """The ANOVA-style result from observed sums of squares and counts of permuted ``F* >= F``."""
    df_res = n - 1 - model.df_model
    ss_res = ss_total - float(observed[: model.widths[0]].sum())
    rows = []
    sums = model.sums_of_squares(observed[None, :])[0]
    for k, (term, df) in enumerate(zip(model.tested, model.df, strict=True)):
        ss = float(sums[k])
        f = (ss / df) / (ss_res / df_res) if df and ss_res > 0 else float("nan")
        p = (int(exceed[k]) + 1) / (permutations + 1) if permutations and df else float("nan")
        rows.append({"term": names[term], "df": df, "sum_of_squares": ss, "r2": ss / ss_total, "f": f, "p_value": p})
    skipped = [names[k] for k in range(len(names)) if k not in model.tested]
    return {
        "method": "PERMANOVA",
        "by": model.by,
        "terms": rows,
        "not_tested": [{"term": name, "reason": "contained in an interaction of the model (marginality)"}
                       for name in skipped],
        "residual": {"df": df_res, "sum_of_squares": ss_res, "r2": ss_res / ss_total},
        "total": {"df": n - 1, "sum_of_squares": ss_total, "r2": 1.0},
        "sample_size": n,
        "permutations": permutations,
    }


def f_statistics(model: Model, quad: np.ndarray, ss_total: float, n: int) -> np.ndarray:
    """Pseudo-F of every term (columns) for each row of quadratic forms."""
    ss = model.sums_of_squares(quad)
    ss_res = ss_total - quad[:, : model.widths[0]].sum(axis=1)
    df = np.asarray(model.df, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (ss / df[None, :]) / (ss_res[:, None] / (n - 1 - model.df_model))


def permanova_formula(
    dm: np.ndarray,
    terms: list[tuple[str, np.ndarray]],
    by: str = "terms",
    permutations: int = 999,
    seed: int | None = None,
    strata: list[str] | None = None,
) -> dict[str, Any]:
    """PERMANOVA of the model ``terms`` (name, design columns of the term) on the square distance matrix ``dm``.

    Returns
    -------
    dict
        ``method``, ``by``, ``terms`` (``term``, ``df``, ``sum_of_squares``, ``r2``, ``f``, ``p_value``),
        ``not_tested`` (``term``, ``reason``: terms inside an interaction, with ``by="margin"``),
        ``residual`` and ``total`` (``df``, ``sum_of_squares``, ``r2``), ``sample_size``, ``permutations``.

    Raises
    ------
    BadInputError
        Shapes disagree, no terms, a term adds no rank, no residual degrees of freedom, ``permutations < 0``.
    """
    dm = np.asarray(dm, dtype=np.float64)
    n = dm.shape[0]
    if dm.ndim != 2 or dm.shape != (n, n):
        raise BadInputError(f"distance matrix of shape {dm.shape} is not square")
    if permutations < 0:
        raise BadInputError("permutations must be 0 or more")
    model = build_model(terms, n, by)
    d2 = dm * dm
    ss_total = float(d2.sum()) / (2.0 * n)
    observed = quadratic_forms(d2, model.basis)
    f_obs = f_statistics(model, observed[None, :], ss_total, n)[0]
    exceed = np.zeros(len(model.tested), dtype=np.int64)
    width = model.basis.shape[1]
    for perms in permutation_batches(n, permutations, seed, strata, batch_size(n, width)):
        stacked = model.basis[perms.T].reshape(n, -1)  # n x (b * width), permutation-major columns
        quad = quadratic_forms(d2, stacked).reshape(len(perms), width)
        exceed += exceedances(model, quad, ss_total, n, f_obs)
    return permanova_table(ss_total, n, [name for name, _ in terms], model, observed, exceed, permutations)


def build_model(terms: list[tuple[str, np.ndarray]], n: int, by: str) -> Model:
    """The :class:`Model` of ``terms`` for ``n`` samples, checked: every term adds rank, residual df remain."""
    if not terms:
        raise BadInputError("PERMANOVA needs at least one term")
    for name, block in terms:
        if np.asarray(block).shape[0] != n:
            raise BadInputError(f"term {name}: {np.asarray(block).shape[0]} rows for a matrix of {n} samples")
    model = Model([np.asarray(b, dtype=np.float64) for _, b in terms], by, [name for name, _ in terms])
    for (name, _), rank in zip(terms, model.ranks, strict=True):
        if rank == 0:
            raise BadInputError(f"term {name} is constant or explained by the terms before it")
    if n - 1 - model.df_model < 1:
        raise BadInputError(f"{n} samples leave no residual degrees of freedom for {model.df_model} model columns")
    return model


def exceedances(model: Model, quad: np.ndarray, ss_total: float, n: int, f_obs: np.ndarray) -> np.ndarray:
    """For each term, how many rows of permuted quadratic forms ``quad`` give ``F* >= F`` (up to rounding)."""
    return np.count_nonzero(f_statistics(model, quad, ss_total, n) >= f_obs - _TIE * np.abs(f_obs), axis=0)


def one_hot(grouping: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The group labels and the n x g indicator matrix of ``grouping``."""
    labels, codes = np.unique(np.asarray([str(g) for g in grouping]), return_inverse=True)
    return labels, np.eye(len(labels))[codes]


def permanova(
    dm: np.ndarray,
    grouping: list[str],
    permutations: int = 999,
    seed: int | None = None,
    strata: list[str] | None = None,
) -> dict[str, Any]:
    """One-way PERMANOVA (pseudo-F) of the groups ``grouping`` on ``dm``, as scikit-bio's ``permanova``.

    Returns the fields of :func:`permanova_formula` plus scikit-bio's: ``test_statistic_name`` ("pseudo-F"),
    ``test_statistic``, ``p_value``, ``number_of_groups``.

    Raises
    ------
    BadInputError
        Shapes disagree, fewer than two groups, every sample in its own group, or ``permutations < 0``.
    """
    n = len(grouping)
    dm = np.asarray(dm)
    if dm.ndim != 2 or dm.shape != (n, n):
        raise BadInputError(f"distance matrix of shape {dm.shape} does not match {n} group labels")
    labels, indicators = one_hot(grouping)
    if len(labels) < 2:
        raise BadInputError("PERMANOVA needs at least two groups")
    if len(labels) == n:
        raise BadInputError("every sample is in its own group; PERMANOVA needs groups with repeated labels")
    result = permanova_formula(dm, [("group", indicators[:, 1:])], "terms", permutations, seed, strata)
    term = result["terms"][0]
    return {
        **result,
        "test_statistic_name": "pseudo-F",
        "test_statistic": term["f"],
        "p_value": term["p_value"],
        "number_of_groups": len(labels),
    }


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg (1995) q-values: ``q_(i) = min_{j >= i} p_(j) m / j``, capped at 1; NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size:
        order = ok[np.argsort(p[ok], kind="stable")]
        ranked = p[order] * ok.size / np.arange(1, ok.size + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return [float(v) for v in q]


def pairwise_permanova(
    dm: np.ndarray, grouping: list[str], permutations: int = 999, seed: int | None = None,
    strata: list[str] | None = None,
) -> list[dict[str, Any]]:
    """One-way PERMANOVA for each pair of groups, with Benjamini-Hochberg q-values over the pairs.

    As q2-diversity's ``beta-group-significance --p-pairwise``: each pair's samples are tested on their own
    sub-matrix with the same number of permutations (and here the same seed); the q-values correct the pairs'
    p-values together. Pairs are in the order of the sorted group labels.
    """
    labels = sorted({str(g) for g in grouping})
    text = [str(g) for g in grouping]
    pairs: list[tuple[str, str, int, float, float]] = []
    for a_index, a in enumerate(labels):
        for b in labels[a_index + 1 :]:
            keep = [k for k, g in enumerate(text) if g in (a, b)]
            sub_strata = [strata[k] for k in keep] if strata is not None else None
            if len(keep) < 3:
                result = {"test_statistic": float("nan"), "p_value": float("nan")}
            else:
                sub = np.asarray(dm)[np.ix_(keep, keep)]
                result = permanova(sub, [text[k] for k in keep], permutations, seed, sub_strata)
            pairs.append((a, b, len(keep), result["test_statistic"], result["p_value"]))
    return pairwise_table(pairs, permutations)


def pairwise_table(pairs: list[tuple[str, str, int, float, float]], permutations: int) -> list[dict[str, Any]]:
    """q2-diversity's pairwise table from ``(group1, group2, sample size, pseudo-F, p-value)`` per pair: one row
    per pair, and the Benjamini-Hochberg q-values over the pairs' p-values (NaN p-values stay NaN)."""
    q_values = benjamini_hochberg([float(p) for *_, p in pairs])
    return [{"group1": a, "group2": b, "sample_size": size, "permutations": permutations, "pseudo_f": f,
             "p_value": p, "q_value": q} for (a, b, size, f, p), q in zip(pairs, q_values, strict=True)]


# ------------------------------------------------------------------------------------------------- PERMDISP


def spatial_median(points: np.ndarray, eps: float = 1e-7, max_iterations: int = 500) -> np.ndarray:
    """The point minimising the sum of Euclidean distances to ``points`` (rows), by Vardi & Zhang's (2000)
    modified Weiszfeld iteration, started at the mean; as scikit-bio's (hdmedians') ``geomedian``.

    Stops when a step moves less than ``eps``.
    """
    y = points.mean(axis=0)
    for _ in range(max_iterations):
        dist = np.linalg.norm(points - y, axis=1)
        nonzero = dist != 0
        inv = 1.0 / dist[nonzero]
        weights = inv / inv.sum()
        t = (points[nonzero] * weights[:, None]).sum(axis=0)
        zeros = points.shape[0] - int(nonzero.sum())
        if zeros == 0:
            y1 = t
        elif zeros == points.shape[0]:
            return y
        else:
            r = np.linalg.norm((t - y) * inv.sum())
            rinv = 0.0 if r == 0 else zeros / r
            y1 = max(0.0, 1.0 - rinv) * t + min(1.0, rinv) * y
        if np.linalg.norm(y - y1) < eps:
            return y1
        y = y1
    return y


def _dispersion_f(coords: np.ndarray, codes: np.ndarray, n_groups: int, test: str) -> float:
    """One-way ANOVA F of the distances of each sample to its group's centre (median or centroid)."""
    dist = np.empty(codes.size)
    for k in range(n_groups):
        members = codes == k
        group = coords[members]
        centre = spatial_median(group) if test == "median" else group.mean(axis=0)
        dist[members] = np.linalg.norm(group - centre, axis=1)
    sizes = np.bincount(codes, minlength=n_groups)
    means = np.bincount(codes, weights=dist, minlength=n_groups) / sizes
    between = float((sizes * (means - dist.mean()) ** 2).sum())
    within = float(((dist - means[codes]) ** 2).sum())
    return (between / (n_groups - 1)) / (within / (codes.size - n_groups))


def permdisp(
    dm: np.ndarray, grouping: list[str], permutations: int = 999, seed: int | None = None,
    test: str = "median", dimensions: int = 10,
) -> dict[str, Any]:
    """PERMDISP (Anderson, 2006): do the groups differ in dispersion (spread) rather than location?

    As scikit-bio's ``permdisp`` with its defaults: the first ``dimensions`` principal coordinates of ``dm``, then
    :func:`permdisp_coordinates`.
    """
    from gutstride.analysis.microbiome.ordination import pcoa

    coords = pcoa(dm, [str(k) for k in range(len(grouping))], dimensions).coordinates
    return permdisp_coordinates(coords, grouping, permutations, seed, test)


def permdisp_coordinates(
    coords: np.ndarray, grouping: list[str], permutations: int = 999, seed: int | None = None, test: str = "median",
) -> dict[str, Any]:
    """PERMDISP on sample coordinates (e.g. principal coordinates), as scikit-bio's ``permdisp`` on an ordination.

    Each sample's Euclidean distance to its group's spatial median (``test="median"``) or centroid, and the one-way
    ANOVA F of those distances. Permutations shuffle the group labels of the coordinates (``rng.permutation`` from
    ``numpy.random.default_rng(seed)``, as scikit-bio) and recompute the centres.

    Returns ``{"method": "PERMDISP", "test", "f", "p_value", "sample_size", "number_of_groups", "permutations"}``.
    """
    if test not in ("median", "centroid"):
        raise BadInputError(f"PERMDISP test must be 'median' or 'centroid', not {test!r}")
    labels, codes = np.unique(np.asarray([str(g) for g in grouping]), return_inverse=True)
    if len(labels) < 2 or len(labels) == codes.size:
        raise BadInputError("PERMDISP needs at least two groups with repeated labels")
    f = _dispersion_f(coords, codes, len(labels), test)
    p_value = float("nan")
    if permutations:
        rng = np.random.default_rng(seed)
        exceed = sum(
            _dispersion_f(coords, rng.permutation(codes), len(labels), test) >= f - _TIE * abs(f)
            for _ in range(permutations)
        )
        p_value = (exceed + 1) / (permutations + 1)
    return {"method": "PERMDISP", "test": test, "f": f, "p_value": p_value, "sample_size": int(codes.size),
            "number_of_groups": len(labels), "permutations": permutations}
