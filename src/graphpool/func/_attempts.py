"""A sync task call's attempts on the pool: timeouts abandon them, retries start anew.

(A call with no retry policy, timeout or ``max_concurrency`` has one attempt and
nothing to decide between attempts: it skips this and is queued as a
:class:`~graphpool.func._future.QueuedCall`, ``_call._once``.)

Each attempt is one submission to the run's thread pool (which, for
``executor="process"`` or ``"ray"``, hands the function to a worker process or
a Ray task and waits). When
an attempt ends, the call either succeeds (its result is saved and streamed),
pauses in ``interrupt()``, is retried after the policy's delay, or fails. With a
``timeout``, an attempt still running when it expires is abandoned: a process
worker (or a Ray task) is killed, a thread is left to finish with its result dropped; the call
fails with :class:`~graphpool.errors.NodeTimeoutError` unless the policy retries it.

With a ``max_concurrency``, each attempt waits for a slot of the run's gate
(``_gate``) before it is submitted and holds it until its thread is done.

Every decision happens under one lock, for the attempt still current: a late
result of an abandoned attempt changes nothing.
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

from .. import _lc
from .._context import CURRENT
from ..errors import GraphInterrupt, NodeTimeoutError
from ._future import TaskFuture
from ._gate import Slot, gate_for

__all__ = ["Attempts"]


class Attempts:
    """Drives one sync call; :attr:`future` is what the caller waits on."""

    def __init__(self, call: Any, spec: Any, args: Any, kwargs: Any, context: Any) -> None:
        self.call, self.spec, self.args, self.kwargs = call, spec, args, kwargs
        self.context = context
        self.pool = call.dispatcher.services.pools.thread
        self.gate = gate_for(call.dispatcher)  # the run's max_concurrency, if it sets one
        self.future: TaskFuture[Any] = TaskFuture(None, self.pool)
        self.attempt = 0
        self.live = 0  # the attempt still deciding the call's fate (0: none)
        self.worker: list[Any] = []  # the process future of the live attempt, if any
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()
        self.on_success: Any = None  # (value) -> None: save, cache, stream
        self.on_pause: Any = None  # (GraphInterrupt) -> None
        self.on_failure: Any = None  # (error) -> None

    def __repr__(self) -> str:
        return f"<Attempts {self.spec.name!r} attempt={self.attempt}>"

    def start(self) -> None:
        """Begin the next attempt: submit it once the run's gate has a slot for it."""
        with self.lock:
            if self.future.done():
                return
            self.attempt += 1
            self.live = attempt = self.attempt
            self.worker = []
            self.call.calls = None  # the attempt's own calls count from 0 again
            self.call.reset()
        if self.gate is None:
            self._submit(attempt, None)
        else:
            gate = self.gate
            gate.enter(lambda: self._submit(attempt, Slot(gate)))

    def _submit(self, attempt: int, slot: Slot | None) -> None:
        with self.lock:
            if attempt != self.live or self.future.done():  # cancelled while it waited
                if slot is not None:
                    slot.release()
                return
            self.call.slot = slot
        # a retry gets a copy: an abandoned attempt may still be inside the context
        run_in = self.context.run if attempt == 1 else self.context.copy().run
        try:
            inner = self.pool.submit_in(self.call.dispatcher.lane, run_in, self._body)
        except BaseException as exc:  # the pool was shut down
            if slot is None:
                raise
            slot.release()  # a gate granted the slot on another call's thread: fail here
            self._settle(None, exc)
            return
        self.future.follow(inner)
        if slot is not None:  # held until the attempt's thread is done with it
            inner.add_done_callback(lambda _: slot.release())
        inner.add_done_callback(lambda f: self._ended(attempt, f))
        timeout = self.spec.timeout
        if timeout is not None and not inner.done():
            timer = threading.Timer(timeout, self._expired, (attempt, inner))
            timer.daemon = True
            self.timer = timer
            timer.start()

    def _body(self) -> Any:
        token = CURRENT.set(self.call)
        try:
            with _lc.bind_config(self.call.config):  # for chat models the call makes
                return self.spec.call_sync(self.call, self.args, self.kwargs, self.worker.append)
        finally:
            CURRENT.reset(token)

    def _expired(self, attempt: int, inner: concurrent.futures.Future[Any]) -> None:
        spec, call = self.spec, self.call
        error = NodeTimeoutError(
            f"Task {spec.name!r} timed out after {spec.timeout:g} s (attempt {attempt}, run "
            f"{call.dispatcher.lane}).",
            node=spec.name,
            attempt=attempt,
            run_id=str(call.dispatcher.lane),
            timeout=spec.timeout,
        )
        if self._conclude(attempt, None, error):
            if self.worker:  # a process or Ray attempt: kill its worker
                kind = spec.executor_in(call.dispatcher.run)
                remote = call.dispatcher.services.pools.of(kind)
                for started in self.worker:
                    remote.abandon(started)
            self.pool.abandon(inner)

    def _ended(self, attempt: int, inner: concurrent.futures.Future[Any]) -> None:
        if inner.cancelled():
            with self.lock:
                if attempt == self.live:
                    self.live = 0
                    self.future.cancel()
            return
        error = inner.exception()
        self._conclude(attempt, None if error is not None else inner.result(), error)

    def _conclude(self, attempt: int, value: Any, error: BaseException | None) -> bool:
        """Settle ``attempt`` (if still live); True if it was."""
        with self.lock:
            if attempt != self.live or self.future.done():
                return False
            self.live = 0
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
        if error is None:
            self.on_success(value)
            self._settle(value, None)
        elif isinstance(error, GraphInterrupt):
            self.on_pause(error)
            self._settle(None, error)
        else:
            delay = self.spec.retry_delay(error, attempt) if isinstance(error, Exception) else None
            if delay is None:
                self.on_failure(error)
                self._settle(None, error)
            elif delay > 0:
                timer = threading.Timer(delay, self.start)
                timer.daemon = True
                timer.start()
            else:
                self.start()
        return True

    def _settle(self, value: Any, error: BaseException | None) -> None:
        try:
            if error is None:
                self.future.set_result(value)
            else:
                self.future.set_exception(error)
        except concurrent.futures.InvalidStateError:  # cancelled by its caller meanwhile
            pass
