"""A toy embedding for the store's vector search tests: letter counts of a, b and c."""

from __future__ import annotations


def embed(texts: list[str]) -> list[list[float]]:
    return [[t.count("a") + 0.001, t.count("b") + 0.001, t.count("c") + 0.001] for t in texts]
