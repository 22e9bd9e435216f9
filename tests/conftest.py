"""Shared fixtures: every behaviour test runs once per pool kind."""

from __future__ import annotations

import pytest

import graphpool


@pytest.fixture(params=["thread"])
def pool(request: pytest.FixtureRequest):
    """A fresh pool of each kind, shut down after the test."""
    made = {"thread": lambda: graphpool.ThreadPool(max_workers=16)}[request.param]()
    yield made
    made.shutdown(wait=True, cancel_futures=True)
