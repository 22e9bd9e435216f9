"""Fixtures for the differential conformance suite.

``lib`` hands a test one library namespace at a time (langgraph, then
graphpool).  graphpool is imported lazily, inside the fixture, so the suite
collects even before the runtime exists.
"""

import pytest

from .harness import LIBRARIES, namespace


@pytest.fixture(params=LIBRARIES, ids=LIBRARIES)
def lib(request):
    return namespace(request.param)


@pytest.fixture(scope="session")
def langgraph_lib():
    return namespace("langgraph")
