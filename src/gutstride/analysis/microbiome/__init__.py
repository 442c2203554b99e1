"""Microbiome analyses: alpha and beta diversity, phylogenetic measures, PERMANOVA, taxa."""
