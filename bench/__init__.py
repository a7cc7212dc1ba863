"""Reproducible benchmarks: a generated monorepo corpus and timings against peers and physical floors."""
