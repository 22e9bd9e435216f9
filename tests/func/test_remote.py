"""Task calls on other processes: a call that cannot be pickled names the task and argument.

The Ray task itself runs in ``tests/test_ray.py`` (on its local cluster); these
calls fail before any pool is asked for, so they need neither.
"""

from __future__ import annotations

import threading

import pytest

from graphpool.errors import SerializationError
from graphpool.func import entrypoint, task

pytestmark = pytest.mark.timeout(60)


def _scale(factor: int, value: object, *rest: object, **options: object) -> object:
    return value


@pytest.mark.parametrize("executor", ["process", "ray"])
def test_an_unpicklable_argument_is_named_with_the_task(executor: str) -> None:
    remote = task(executor=executor)(_scale)
    ran: list[str] = []

    @entrypoint()
    def main(how: str) -> object:
        ran.append(how)
        lock = threading.Lock()
        if how == "positional":
            return remote(2, lock).result()
        if how == "rest":
            return remote(2, 3, 4, lock).result()
        return remote(2, 3, flag=lock).result()

    target = {"process": "a process worker", "ray": "Ray"}[executor]
    for how, named in [("positional", "'value'"), ("rest", "'rest[1]'"), ("keyword", "'flag'")]:
        with pytest.raises(SerializationError) as caught:
            main.invoke(how)
        message = str(caught.value)
        assert f"task '_scale' to {target}" in message
        assert f"argument {named} (lock)" in message
        assert caught.value.node == "_scale"
    assert ran == ["positional", "rest", "keyword"]


def test_an_unpicklable_function_is_named() -> None:
    lock = threading.Lock()

    @task(executor="process")
    def holds_a_lock(x: int) -> bool:
        return lock.locked()

    @entrypoint()
    def main(x: int) -> bool:
        return holds_a_lock(x).result()

    with pytest.raises(
        SerializationError, match=r"'holds_a_lock' to a process worker: its function"
    ):
        main.invoke(1)
