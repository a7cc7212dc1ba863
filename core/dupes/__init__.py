"""Duplication: find copy-pasted infrastructure and the abstraction that removes it."""
