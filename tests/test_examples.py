"""The README's agent example (examples/react_agent.py) runs and prints the conversation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(60)
def test_react_agent_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "react_agent.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[:5] == [
        "human: Weather and population of Paris?",
        "ai:",
        "tool: sunny in Paris",
        "tool: Paris: 2.1 million",
        "ai: Paris is sunny and has 2.1 million people.",
    ]
    assert lines[5].startswith("took ")
