"""RunOptions (``_config.py``): the run ids it makes for a config without one."""

from __future__ import annotations

import uuid

from graphpool._config import RunOptions


def test_a_config_without_run_id_gets_a_fresh_version_4_uuid() -> None:
    ids = [RunOptions.from_config(config).run_id for config in (None, {}, {"tags": ["t"]})]
    ids += [RunOptions.from_config(None).run_id for _ in range(500)]
    assert len(set(ids)) == len(ids)  # fresh each time
    for run_id in ids:
        parsed = uuid.UUID(run_id)
        assert str(parsed) == run_id  # canonical lower-case, hyphenated form
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_a_given_run_id_is_kept() -> None:
    given = uuid.uuid4()
    assert RunOptions.from_config({"run_id": given}).run_id == str(given)
