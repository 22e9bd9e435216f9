"""GRAPHPOOL_* environment variables configure the default pools; bad values fail named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graphpool._env import VARIABLES, Settings, settings
from graphpool.errors import InvalidPoolConfigError


def test_unset_or_empty_variables_keep_the_defaults() -> None:
    assert settings({}) == Settings()
    assert settings({"GRAPHPOOL_MAX_WORKERS": "  "}) == Settings()
    assert Settings().thread_options() == {} and Settings().process_options() == {}


def test_values_are_parsed_into_pool_options() -> None:
    found = settings(
        {
            "GRAPHPOOL_MAX_WORKERS": "8",
            "GRAPHPOOL_MIN_WORKERS": "2",
            "GRAPHPOOL_IDLE_TIMEOUT": "1.5",
            "GRAPHPOOL_QUEUE_SIZE": "100",
            "GRAPHPOOL_PROCESS_WORKERS": "3",
            "GRAPHPOOL_PROCESS_MIN_WORKERS": "1",
            "GRAPHPOOL_PROCESS_IDLE_TIMEOUT": "0",
            "GRAPHPOOL_RAY_ADDRESS": " auto ",
            "GRAPHPOOL_RAY_LOG_TO_DRIVER": "off",
        }
    )
    assert found.thread_options() == {
        "max_workers": 8,
        "min_workers": 2,
        "idle_timeout": 1.5,
        "queue_size": 100,
    }
    assert found.process_options() == {"max_workers": 3, "min_workers": 1, "idle_timeout": 0.0}
    assert found.ray_address == "auto" and found.ray_log_to_driver is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRAPHPOOL_MAX_WORKERS", "abc"),
        ("GRAPHPOOL_MAX_WORKERS", "0"),
        ("GRAPHPOOL_MAX_WORKERS", "2.5"),
        ("GRAPHPOOL_MIN_WORKERS", "-1"),
        ("GRAPHPOOL_IDLE_TIMEOUT", "nan"),
        ("GRAPHPOOL_IDLE_TIMEOUT", "-3"),
        ("GRAPHPOOL_QUEUE_SIZE", "0"),
        ("GRAPHPOOL_PROCESS_WORKERS", "many"),
        ("GRAPHPOOL_PROCESS_MIN_WORKERS", "-2"),
        ("GRAPHPOOL_PROCESS_IDLE_TIMEOUT", "inf"),
        ("GRAPHPOOL_RAY_LOG_TO_DRIVER", "maybe"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(InvalidPoolConfigError, match=name):
        settings({name: value})


def test_min_above_max_fails_naming_both() -> None:
    with pytest.raises(InvalidPoolConfigError, match=r"GRAPHPOOL_MIN_WORKERS=5.*MAX_WORKERS=2"):
        settings({"GRAPHPOOL_MIN_WORKERS": "5", "GRAPHPOOL_MAX_WORKERS": "2"})


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60
    )


def test_a_bad_value_fails_at_import() -> None:
    done = _python("import graphpool", GRAPHPOOL_IDLE_TIMEOUT="soon")
    assert done.returncode != 0
    assert "InvalidPoolConfigError: GRAPHPOOL_IDLE_TIMEOUT='soon'" in done.stderr


def test_the_default_pools_are_built_from_the_variables() -> None:
    code = (
        "import graphpool\n"
        "t = graphpool.default_pool()\n"
        "p = graphpool.default_process_pool()\n"
        "print(t.max_workers, t.min_workers, t.idle_timeout, p.max_workers, p.idle_timeout,"
        " p.min_workers)\n"
        "p.shutdown()\n"
    )
    done = _python(
        code,
        GRAPHPOOL_MAX_WORKERS="7",
        GRAPHPOOL_MIN_WORKERS="1",
        GRAPHPOOL_IDLE_TIMEOUT="2.5",
        GRAPHPOOL_PROCESS_WORKERS="3",
        GRAPHPOOL_PROCESS_MIN_WORKERS="2",
        GRAPHPOOL_PROCESS_IDLE_TIMEOUT="4",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["7", "1", "2.5", "3", "4.0", "2"]
