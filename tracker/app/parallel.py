"""Jobs in worker processes or as Ray tasks: :class:`WorkerPool` and :class:`RayPool`.

``vtrack track`` (one job per source, :mod:`tracker.app.fleet`) and ``vtrack bench``
(one job per backend and sequence, then one per backend's scoring, :mod:`benchmarks.runner`)
hand their jobs to one of these pools. Both have the same interface: :meth:`~WorkerPool.submit`
a module-level function and its argument (any time, also while reading results), and
:meth:`~WorkerPool.results` yields ``(argument, result)`` as each job ends, in the order
they end, until no job is left. ``result`` is what the function returned, or the
exception it raised (the caller decides whether that stops the run), or the error of a
worker that died. Leaving the ``with`` block before every job ended (Ctrl-C, an error)
stops the jobs still running.

- :class:`WorkerPool`: a :class:`concurrent.futures.ProcessPoolExecutor` of ``spawn``
  processes (a fresh interpreter each: no thread pool or model state copied from the
  parent; or ``fork``ed ones, see the class), started by the first submissions.
  Workers ignore Ctrl-C and log as the parent does; Ctrl-C reaches
  the parent, which ends the worker processes (:func:`multiprocessing.active_children`).
  A worker that dies (killed, out of memory) breaks the pool: every job not finished
  then yields :class:`~concurrent.futures.process.BrokenProcessPool`.
- :class:`RayPool`: Ray tasks (``ray.init(address)``; a local Ray instance for
  :data:`LOCAL_RAY`), each reserving ``num_cpus`` CPUs and ``num_gpus`` GPUs; Ray re-runs a
  task whose worker or node died up to ``retries`` times. An exception raised by the
  function comes back as itself (Ray's ``RayTaskError`` unwrapped). Ray is imported here
  only (``pip install 'vtrack[fleet]'``).

The function and the arguments must be picklable (a module-level function; plain
data), and on a Ray cluster every path in them must mean the same on every node.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any

__all__ = ["LOCAL_RAY", "ParallelError", "RayPool", "WorkerPool"]

#: The Ray address that starts a local Ray instance (``ray.init()`` without an address).
LOCAL_RAY = "local"

_POLL_S = 0.25
_RAY_BATCH = 64
_LOG_FORMAT = "%(levelname)s: %(name)s: %(message)s"


class ParallelError(RuntimeError):
    """Ray cannot be imported, started or reached; the one-line message says why."""


def _start_worker(log_level: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Set up a worker process: Ctrl-C is left to the parent, logging as in the parent, then ``initializer``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=_LOG_FORMAT)
    if initializer is not None:
        initializer(*initargs)


class WorkerPool:
    """Jobs in ``workers`` spawn processes; see the module doc.

    Args:
        workers: processes at once (>= 1).
        initializer: called with ``initargs`` once in each worker process, before its first job.
        poll: called in this process about every 0.25 s while :meth:`results` waits
            (e.g. to show progress).
        start_method: ``"spawn"`` (the default), or ``"fork"`` where the jobs are short and
            a fresh interpreter's imports would cost more than they do: forked workers start
            with every module this process loaded. Fork only from a process whose native
            thread pools (OpenMP, BLAS, torch) are held to one thread and idle.

    Raises:
        ValueError: ``workers < 1``.
    """

    def __init__(
        self,
        workers: int,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        poll: Callable[[], None] | None = None,
        start_method: str = "spawn",
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(start_method),
            initializer=_start_worker,
            initargs=(logging.getLogger().level, initializer, initargs),
        )
        self._poll = poll
        self._pending: dict[Future[Any], Any] = {}

    def submit(self, function: Callable[[Any], Any], argument: Any) -> None:
        """Queue ``function(argument)``."""
        self._pending[self._executor.submit(function, argument)] = argument

    def results(self) -> Iterator[tuple[Any, Any]]:
        """``(argument, result or exception)`` of each job as it ends, until none is left."""
        while self._pending:
            finished, _ = wait(self._pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            if self._poll is not None:
                self._poll()
            for future in finished:
                argument = self._pending.pop(future)
                error = future.exception()
                yield argument, error if error is not None else future.result()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pending:  # Ctrl-C, or the caller stopped early: end the jobs still running
            self._executor.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)


class RayPool:
    """Jobs as Ray tasks; see the module doc.

    Args:
        address: a Ray address for ``ray.init`` (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``),
            or :data:`LOCAL_RAY` to start a local Ray instance (which joins the cluster of
            ``RAY_ADDRESS`` instead when that is set, as ``ray.init()`` does).
        num_cpus: CPUs each task reserves.
        num_gpus: GPUs each task reserves (may be a fraction).
        retries: how many times Ray re-runs a task whose worker process or node died.

    Raises:
        ParallelError: Ray is not installed, or cannot be started or reached at ``address``.
    """

    def __init__(self, address: str, *, num_cpus: float = 1, num_gpus: float = 0, retries: int = 3) -> None:
        try:
            import ray
        except ImportError as error:
            raise ParallelError(f"Ray is not installed: pip install 'vtrack[fleet]' ({error})") from None
        try:
            ray.init(
                address=None if address == LOCAL_RAY else address,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise ParallelError(f"cannot start or reach Ray at {address}: {' '.join(str(error).split())}") from None
        self._ray: Any = ray
        self._options = {"num_cpus": num_cpus, "num_gpus": num_gpus, "max_retries": retries}
        self._tasks: dict[Callable[[Any], Any], Any] = {}
        self._pending: dict[Any, Any] = {}

    def submit(self, function: Callable[[Any], Any], argument: Any) -> None:
        """Start ``function(argument)`` as a Ray task."""
        if function not in self._tasks:
            self._tasks[function] = self._ray.remote(function).options(**self._options)
        self._pending[self._tasks[function].remote(argument)] = argument

    def results(self) -> Iterator[tuple[Any, Any]]:
        """``(argument, result or exception)`` of each task as it ends, until none is left."""
        ray = self._ray
        while self._pending:
            batch = min(len(self._pending), _RAY_BATCH)
            finished, _ = ray.wait(list(self._pending), num_returns=batch, timeout=_POLL_S)
            for ref in finished:
                argument = self._pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as error:  # the function raised: hand on its own exception
                    cause = getattr(error, "cause", None)
                    result = cause if isinstance(cause, BaseException) else error
                except ray.exceptions.RayError as error:  # the task's worker or node died, beyond the retries
                    result = error
                yield argument, result

    def __enter__(self) -> RayPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._ray.shutdown()
