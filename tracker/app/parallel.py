"""One function over many items, in worker processes or as Ray tasks: :func:`in_processes` and :func:`on_ray`.

``vtrack track`` (one job per source, :mod:`tracker.app.fleet`) and ``vtrack bench``
(one job per backend and sequence, :mod:`benchmarks.runner`) hand their jobs here. Both
functions are generators yielding ``(item, result)`` as each job ends (in the order
they end); ``result`` is what the function returned, or the exception it raised (the
caller decides whether that stops the run), or the error of a worker that died.

- :func:`in_processes`: a :class:`concurrent.futures.ProcessPoolExecutor` of ``spawn``
  processes (a fresh interpreter each: no thread pool or model state copied from the
  parent). Workers ignore Ctrl-C; it reaches the parent, which ends the worker processes
  (:func:`multiprocessing.active_children`) when the generator is left before its end.
  A worker that dies (killed, out of memory) breaks the pool: every job not finished
  then yields :class:`~concurrent.futures.process.BrokenProcessPool`.
- :func:`on_ray`: Ray tasks (``ray.init(address)``; a local Ray instance for ``"local"``),
  each reserving ``num_cpus`` CPUs and ``num_gpus`` GPUs; Ray re-runs a task whose worker
  or node died up to ``retries`` times. Leaving the generator early cancels the tasks
  not finished. Ray is imported here only (``pip install 'vtrack[fleet]'``).

The function and the items must be picklable (a module-level function; items of plain
data), and on a Ray cluster every path in them must mean the same on every node.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["LOCAL_RAY", "ParallelError", "in_processes", "on_ray"]

#: The Ray address that starts a local Ray instance (``ray.init()`` without an address).
LOCAL_RAY = "local"

_POLL_S = 0.25
_RAY_BATCH = 64
_LOG_FORMAT = "%(levelname)s: %(name)s: %(message)s"

T = TypeVar("T")
R = TypeVar("R")


class ParallelError(RuntimeError):
    """Ray cannot be imported, started or reached; the one-line message says why."""


def _start_worker(log_level: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Set up a worker process: Ctrl-C is left to the parent, logging as in the parent, then ``initializer``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=_LOG_FORMAT)
    if initializer is not None:
        initializer(*initargs)


def in_processes(
    function: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    poll: Callable[[], None] | None = None,
) -> Iterator[tuple[T, R | BaseException]]:
    """Run ``function(item)`` for every item in ``workers`` processes; yield ``(item, result or exception)``.

    Args:
        function: a module-level function (pickled by reference).
        items: its arguments, one job each.
        workers: processes at once (>= 1).
        initializer: called with ``initargs`` once in each worker process, before any job.
        poll: called in this process about every 0.25 s while jobs run (e.g. to show progress).

    Raises:
        ValueError: ``workers < 1``.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(logging.getLogger().level, initializer, initargs),
    )
    ended = False
    try:
        futures: dict[Future[R], T] = {pool.submit(function, item): item for item in items}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            if poll is not None:
                poll()
            for future in finished:
                error = future.exception()
                yield futures[future], error if error is not None else future.result()
        ended = True
    finally:
        if not ended:  # Ctrl-C, or the caller stopped early: end the jobs still running
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def on_ray(
    function: Callable[[T], R],
    items: Iterable[T],
    address: str,
    *,
    num_cpus: float = 1,
    num_gpus: float = 0,
    retries: int = 3,
) -> Iterator[tuple[T, R | BaseException]]:
    """Run ``function(item)`` for every item as a Ray task; yield ``(item, result or exception)``.

    Args:
        function: a module-level function (Ray pickles it by reference: the package must
            be importable on every node).
        items: its arguments, one task each.
        address: a Ray address for ``ray.init`` (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``),
            or :data:`LOCAL_RAY` to start a local Ray instance (which joins the cluster of
            ``RAY_ADDRESS`` instead when that is set, as ``ray.init()`` does).
        num_cpus: CPUs each task reserves.
        num_gpus: GPUs each task reserves (may be a fraction).
        retries: how many times Ray re-runs a task whose worker process or node died.

    Raises:
        ParallelError: Ray is not installed, or cannot be started or reached at ``address``.
    """
    try:
        import ray
    except ImportError as error:
        raise ParallelError(f"Ray is not installed: pip install 'vtrack[fleet]' ({error})") from None
    try:
        ray.init(
            address=None if address == LOCAL_RAY else address, include_dashboard=False, logging_level=logging.WARNING
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ParallelError(f"cannot start or reach Ray at {address}: {' '.join(str(error).split())}") from None
    pending: list[Any] = []
    ended = False
    try:
        task = ray.remote(function).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=retries)
        refs = {task.remote(item): item for item in items}
        pending = list(refs)
        while pending:
            finished, pending = ray.wait(pending, num_returns=min(len(pending), _RAY_BATCH), timeout=_POLL_S)
            for ref in finished:
                try:
                    result: R | BaseException = ray.get(ref)
                except Exception as error:  # the function's own exception (as a RayTaskError of its class), or Ray's
                    result = error
                yield refs[ref], result
        ended = True
    finally:
        if not ended:
            for ref in pending:
                ray.cancel(ref, force=True)
        ray.shutdown()
