"""Key taxa and guilds: relative abundances checked against an independent pandas computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gutstride.analysis.microbiome.taxa import BUTYRATE_PRODUCERS, KEY_TAXA, group_abundances, top_genera
from gutstride.ingest.microbiome.read import read_table

MICROBIOME = Path(__file__).parents[2] / "data" / "microbiome"

AG = MICROBIOME / "american-gut" / "AG_debug" / "AG_100nt.biom.gz"


def test_group_abundances_match_a_pandas_groupby_on_the_raw_biom() -> None:
    import biom

    raw = biom.load_table(str(AG))
    frame = pd.DataFrame(raw.matrix_data.toarray(), index=raw.ids("observation"), columns=raw.ids())
    genus = pd.Series({f: raw.metadata(f, "observation")["taxonomy"][5].strip()[3:].strip("[]")
                       for f in raw.ids("observation")})
    rel = frame / frame.sum(axis=0)
    table = read_table(AG)
    shares = group_abundances(table)
    order = [table.sample_ids.index(s) for s in rel.columns]
    for group in KEY_TAXA:
        expected = rel[genus.isin(group.genera).to_numpy()].sum(axis=0).to_numpy()
        np.testing.assert_allclose(shares[group.id][order], expected, atol=1e-12)
    # the guild is at least its largest single member
    assert np.all(shares["butyrate_producers"] + 1e-12 >= shares["faecalibacterium"])
    assert np.nanmax(shares["butyrate_producers"]) > 0


def test_guild_membership_carries_a_verified_reference() -> None:
    from gutstride.evidence.model import load_knowledge_base

    study = load_knowledge_base().studies[str(BUTYRATE_PRODUCERS.reference)]
    assert study.doi and "butyrate-producing bacteria" in (study.title or "")
    assert "Faecalibacterium" in BUTYRATE_PRODUCERS.genera and "Roseburia" in BUTYRATE_PRODUCERS.genera


def test_top_genera_are_sorted_shares_summing_to_at_most_one() -> None:
    table = read_table(AG)
    top = top_genera(table, 0, n=500)
    shares = [s for _, s in top]
    assert shares == sorted(shares, reverse=True)
    assert abs(sum(shares) - 1.0) < 1e-9
