"""Microbiome readers: BIOM, QIIME 2 artifacts, text tables, MetaPhlAn, Kraken/Bracken, taxonomy, trees."""
